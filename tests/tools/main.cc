// Entry point of the tools_tests Boost.Test executable.
#define BOOST_TEST_MODULE tools_tests
#include <boost/test/unit_test.hpp>
