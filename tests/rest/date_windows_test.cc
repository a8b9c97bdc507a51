// Date parsing and the month-bounded windows of backfill requests.

#include "daemon/date_windows.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

namespace terra::daemon {
namespace {

std::chrono::sys_days Day(const std::string& text) {
  std::chrono::sys_days day;
  BOOST_REQUIRE_MESSAGE(ParseDate(text, &day), text);
  return day;
}

// Renders windows as "start..end" lines, end exclusive.
std::string Render(const std::vector<DateWindow>& windows) {
  std::string text;
  for (const DateWindow& window : windows) {
    text += FormatDate(window.start) + ".." + FormatDate(window.end) + "\n";
  }
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(date_windows)

BOOST_AUTO_TEST_CASE(parse_and_format) {
  BOOST_TEST(FormatDate(Day("2024-02-29")) == "2024-02-29");
  std::chrono::sys_days day;
  BOOST_TEST(!ParseDate("2023-02-29", &day));
  BOOST_TEST(!ParseDate("2023-2-01", &day));
  BOOST_TEST(!ParseDate("2023-02-01x", &day));
  BOOST_TEST(!ParseDate("2023-13-01", &day));
}

BOOST_AUTO_TEST_CASE(ninety_days) {
  // 90 days from 2026-04-20: every window inside one month, none over 28.
  std::vector<DateWindow> windows =
      SplitIntoWindows(Day("2026-04-20"), Day("2026-07-19"), 28);
  BOOST_TEST(Render(windows) ==
             "2026-04-20..2026-05-01\n"
             "2026-05-01..2026-05-29\n"
             "2026-05-29..2026-06-01\n"
             "2026-06-01..2026-06-29\n"
             "2026-06-29..2026-07-01\n"
             "2026-07-01..2026-07-19\n");
}

BOOST_AUTO_TEST_CASE(covers_range_exactly) {
  std::chrono::sys_days start = Day("2025-12-03");
  std::chrono::sys_days end = Day("2026-03-15");
  std::vector<DateWindow> windows = SplitIntoWindows(start, end, 28);
  BOOST_REQUIRE(!windows.empty());
  BOOST_TEST(FormatDate(windows.front().start) == "2025-12-03");
  BOOST_TEST(FormatDate(windows.back().end) == "2026-03-15");
  for (size_t i = 0; i < windows.size(); ++i) {
    BOOST_TEST(windows[i].days() >= 1);
    BOOST_TEST(windows[i].days() <= 28);
    std::chrono::year_month_day first(windows[i].start);
    std::chrono::year_month_day last(windows[i].end - std::chrono::days(1));
    BOOST_TEST(static_cast<unsigned>(first.month()) ==
               static_cast<unsigned>(last.month()));
    if (i > 0) {
      BOOST_TEST(FormatDate(windows[i].start) ==
                 FormatDate(windows[i - 1].end));
    }
  }
}

BOOST_AUTO_TEST_CASE(empty_range) {
  BOOST_TEST(
      SplitIntoWindows(Day("2026-01-05"), Day("2026-01-05"), 28).empty());
  BOOST_TEST(
      SplitIntoWindows(Day("2026-01-06"), Day("2026-01-05"), 28).empty());
}

BOOST_AUTO_TEST_CASE(short_max_days) {
  BOOST_TEST(
      Render(SplitIntoWindows(Day("2026-01-30"), Day("2026-02-03"), 2)) ==
      "2026-01-30..2026-02-01\n"
      "2026-02-01..2026-02-03\n");
}

BOOST_AUTO_TEST_CASE(halves) {
  BOOST_TEST(Render(SplitInHalves({Day("2026-03-01"), Day("2026-03-08")})) ==
             "2026-03-01..2026-03-04\n"
             "2026-03-04..2026-03-08\n");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
