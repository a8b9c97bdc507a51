// Entry point of the store_tests Boost.Test executable.
#define BOOST_TEST_MODULE store_tests
#include <boost/test/unit_test.hpp>
