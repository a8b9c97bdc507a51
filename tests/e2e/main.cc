// Entry point of the e2e_tests Boost.Test executable.
#define BOOST_TEST_MODULE e2e_tests
#include <boost/test/unit_test.hpp>
