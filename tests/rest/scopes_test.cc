// Data types that a connection's scopes allow a backfill to fetch.

#include "daemon/scopes.h"

#include <boost/test/unit_test.hpp>

namespace terra::daemon {
namespace {

const std::vector<std::string> kEnabled = {"activity", "sleep", "daily", "body",
                                           "athlete"};

}  // namespace

BOOST_AUTO_TEST_SUITE(scopes)

BOOST_AUTO_TEST_CASE(per_type_scopes_narrow) {
  std::vector<std::string> expected = {"activity", "sleep"};
  BOOST_TEST(TypesAllowedByScopes(kEnabled, "activity:read,sleep:read") == expected);
  BOOST_TEST(TypesAllowedByScopes(kEnabled, "Sleep:Read ACTIVITY:read") == expected);
}

BOOST_AUTO_TEST_CASE(broad_scopes_allow_all) {
  BOOST_TEST(TypesAllowedByScopes(kEnabled, "ACTIVITY_EXPORT,HEALTH_EXPORT") == kEnabled);
  BOOST_TEST(TypesAllowedByScopes(kEnabled, "") == kEnabled);
  BOOST_TEST(TypesAllowedByScopes(kEnabled, "profile:read,email:read") == kEnabled);
}

BOOST_AUTO_TEST_CASE(disabled_types_stay_out) {
  std::vector<std::string> expected = {"sleep"};
  BOOST_TEST(TypesAllowedByScopes(kEnabled, "sleep:read,nutrition:read") == expected);
  BOOST_TEST(TypesAllowedByScopes({"daily"}, "sleep:read").empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
