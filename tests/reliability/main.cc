// Entry point of the reliability_tests Boost.Test executable.
#define BOOST_TEST_MODULE reliability_tests
#include <boost/test/unit_test.hpp>
