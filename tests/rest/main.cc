// Entry point of the rest_tests Boost.Test executable.
#define BOOST_TEST_MODULE rest_tests
#include <boost/test/unit_test.hpp>
