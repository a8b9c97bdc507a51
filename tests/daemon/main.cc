// Entry point of the daemon_tests Boost.Test executable.
#define BOOST_TEST_MODULE daemon_tests
#include <boost/test/unit_test.hpp>
