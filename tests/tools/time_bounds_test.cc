// ParseTimeBound: the two accepted forms, each bound inclusive, and every
// near miss rejected rather than normalized.

#include "tools/time_bounds.h"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "tests/tools/tool_support.h"

namespace terra::tools {
namespace {

using testing::kDayMs;
using testing::kJuly1Ms;

// Returns the bound as unix ms, or -1 if it was rejected.
int64_t BoundMs(const std::string& text, BoundEnd end) {
  return ParseTimeBound(text, end).value_or(-1);
}

BOOST_AUTO_TEST_SUITE(time_bounds)

BOOST_AUTO_TEST_CASE(day_covers_whole_day) {
  BOOST_TEST(BoundMs("2026-07-01", BoundEnd::kStart) == kJuly1Ms);
  BOOST_TEST(BoundMs("2026-07-01", BoundEnd::kEnd) == kJuly1Ms + kDayMs - 1);
}

BOOST_AUTO_TEST_CASE(time_covers_whole_second) {
  int64_t ms = kJuly1Ms + ((13 * 60 + 4) * 60 + 5) * 1000;
  BOOST_TEST(BoundMs("2026-07-01T13:04:05Z", BoundEnd::kStart) == ms);
  BOOST_TEST(BoundMs("2026-07-01T13:04:05Z", BoundEnd::kEnd) == ms + 999);
}

BOOST_AUTO_TEST_CASE(calendar_edges_accepted) {
  BOOST_TEST(BoundMs("1970-01-01T00:00:00Z", BoundEnd::kStart) == 0);
  BOOST_TEST(BoundMs("2026-06-30T23:59:59Z", BoundEnd::kEnd) == kJuly1Ms - 1);
  BOOST_TEST(ParseTimeBound("2028-02-29", BoundEnd::kStart).has_value());
  BOOST_TEST(ParseTimeBound("2000-02-29T12:00:00Z", BoundEnd::kStart)
                 .has_value());
}

BOOST_AUTO_TEST_CASE(invalid_text_rejected) {
  const std::string kInvalid[] = {
      "",
      "2026-02-30",
      "2026-02-29",
      "2026-13-01",
      "2026-02-30T00:00:00Z",
      "2100-02-29T00:00:00Z",
      "2026-07-01T24:00:00Z",
      "2026-07-01T23:60:00Z",
      "2026-07-01T23:59:60Z",
      " 2026-07-01T00:00:00Z",
      "2026-07-01T00:00:00Z ",
      " 2026-07-01",
      "2026-2-3T1:2:3Z",
      "2026-07-01T1:02:03Z",
      "2026-07-01T+1:02:03Z",
      "2026-07-01T00:00:00",
      "2026-07-01t00:00:00Z",
      "2026-07-01 00:00:00Z",
      "2026-07-01T00:00:00+00:00",
      "2026-07-01T00:00:00.000Z",
      "0000-01-01",
  };
  for (const std::string& text : kInvalid) {
    BOOST_TEST(!ParseTimeBound(text, BoundEnd::kStart).has_value(),
               "accepted \"" << text << "\"");
    BOOST_TEST(!ParseTimeBound(text, BoundEnd::kEnd).has_value(),
               "accepted \"" << text << "\"");
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::tools
