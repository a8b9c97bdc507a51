// The next fire time of the nightly reconciliation, across daylight-saving
// changes.

#include "daemon/reconcile_schedule.h"

#include <boost/test/unit_test.hpp>
#include <string>

#include "daemon/date_windows.h"

namespace terra::daemon {
namespace {

using std::chrono::system_clock;

TimeZone Zone(const std::string& name) {
  TimeZone zone;
  std::string error;
  BOOST_REQUIRE_MESSAGE(TimeZone::Load(name, &zone, &error), error);
  return zone;
}

// "YYYY-MM-DD HH:MM" in UTC.
system_clock::time_point Utc(const std::string& text) {
  std::chrono::sys_days day;
  BOOST_REQUIRE(ParseDate(text.substr(0, 10), &day));
  TimeOfDay time;
  BOOST_REQUIRE(ParseTimeOfDay(text.substr(11, 5), &time));
  return day + std::chrono::hours(time.hour) +
         std::chrono::minutes(time.minute);
}

std::string Render(system_clock::time_point time) {
  auto day = std::chrono::floor<std::chrono::days>(time);
  auto minutes =
      std::chrono::duration_cast<std::chrono::minutes>(time - day).count();
  char clock[8];
  std::snprintf(clock, sizeof(clock), "%02d:%02d",
                static_cast<int>(minutes / 60), static_cast<int>(minutes % 60));
  return FormatDate(day) + " " + clock;
}

std::string ToUtc(const TimeZone& zone, const std::string& date,
                  const std::string& time) {
  std::chrono::sys_days day;
  BOOST_REQUIRE(ParseDate(date, &day));
  TimeOfDay wall;
  BOOST_REQUIRE(ParseTimeOfDay(time, &wall));
  return Render(zone.ToUtc(day, wall));
}

constexpr TimeOfDay kHalfPastThree{3, 30};

}  // namespace

BOOST_AUTO_TEST_SUITE(reconcile_schedule)

BOOST_AUTO_TEST_CASE(parse_time_of_day) {
  TimeOfDay time;
  BOOST_TEST(ParseTimeOfDay("03:30", &time));
  BOOST_TEST(time.hour == 3);
  BOOST_TEST(time.minute == 30);
  BOOST_TEST(!ParseTimeOfDay("24:00", &time));
  BOOST_TEST(!ParseTimeOfDay("3:30", &time));
  BOOST_TEST(!ParseTimeOfDay("03:60", &time));
}

BOOST_AUTO_TEST_CASE(unknown_zone) {
  TimeZone zone;
  std::string error;
  BOOST_TEST(!TimeZone::Load("Europe/Nowhere", &zone, &error));
  BOOST_TEST(error.find("Europe/Nowhere") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(london_offsets) {
  TimeZone london = Zone("Europe/London");
  BOOST_TEST(ToUtc(london, "2026-03-28", "03:30") == "2026-03-28 03:30");
  BOOST_TEST(ToUtc(london, "2026-03-29", "03:30") == "2026-03-29 02:30");
  BOOST_TEST(ToUtc(london, "2026-10-24", "03:30") == "2026-10-24 02:30");
  BOOST_TEST(ToUtc(london, "2026-10-25", "03:30") == "2026-10-25 03:30");
}

BOOST_AUTO_TEST_CASE(london_gap_and_repeat) {
  TimeZone london = Zone("Europe/London");
  // 01:30 does not exist on 29 March: fire when the clock jumps past it.
  BOOST_TEST(ToUtc(london, "2026-03-29", "01:30") == "2026-03-29 01:30");
  // 01:30 happens twice on 25 October: fire at the first.
  BOOST_TEST(ToUtc(london, "2026-10-25", "01:30") == "2026-10-25 00:30");
}

BOOST_AUTO_TEST_CASE(new_york_offsets) {
  TimeZone new_york = Zone("America/New_York");
  BOOST_TEST(ToUtc(new_york, "2026-03-07", "03:30") == "2026-03-07 08:30");
  BOOST_TEST(ToUtc(new_york, "2026-03-08", "03:30") == "2026-03-08 07:30");
  BOOST_TEST(ToUtc(new_york, "2026-10-31", "03:30") == "2026-10-31 07:30");
  BOOST_TEST(ToUtc(new_york, "2026-11-01", "03:30") == "2026-11-01 08:30");
}

BOOST_AUTO_TEST_CASE(new_york_gap_and_repeat) {
  TimeZone new_york = Zone("America/New_York");
  BOOST_TEST(ToUtc(new_york, "2026-03-08", "02:30") == "2026-03-08 07:30");
  BOOST_TEST(ToUtc(new_york, "2026-11-01", "01:30") == "2026-11-01 05:30");
}

BOOST_AUTO_TEST_CASE(next_fire_spring) {
  TimeZone london = Zone("Europe/London");
  BOOST_TEST(Render(NextFireTime(Utc("2026-03-28 04:00"), kHalfPastThree,
                                 london)) == "2026-03-29 02:30");
  BOOST_TEST(Render(NextFireTime(Utc("2026-03-28 03:00"), kHalfPastThree,
                                 london)) == "2026-03-28 03:30");
  TimeZone new_york = Zone("America/New_York");
  BOOST_TEST(Render(NextFireTime(Utc("2026-03-07 09:00"), kHalfPastThree,
                                 new_york)) == "2026-03-08 07:30");
}

BOOST_AUTO_TEST_CASE(next_fire_autumn) {
  TimeZone london = Zone("Europe/London");
  BOOST_TEST(Render(NextFireTime(Utc("2026-10-24 02:30"), kHalfPastThree,
                                 london)) == "2026-10-25 03:30");
  TimeZone new_york = Zone("America/New_York");
  BOOST_TEST(Render(NextFireTime(Utc("2026-10-31 08:00"), kHalfPastThree,
                                 new_york)) == "2026-11-01 08:30");
}

BOOST_AUTO_TEST_CASE(next_fire_at_exact_time) {
  // Strictly after now: firing at 03:30 schedules the next night.
  TimeZone utc = Zone("UTC");
  BOOST_TEST(Render(NextFireTime(Utc("2026-06-01 03:30"), kHalfPastThree,
                                 utc)) == "2026-06-02 03:30");
}

BOOST_AUTO_TEST_CASE(local_day_near_midnight) {
  TimeZone new_york = Zone("America/New_York");
  BOOST_TEST(FormatDate(new_york.LocalDay(Utc("2026-07-02 03:00"))) ==
             "2026-07-01");
  TimeZone posix = Zone("EST5EDT,M3.2.0,M11.1.0");
  BOOST_TEST(FormatDate(posix.LocalDay(Utc("2026-07-02 05:00"))) ==
             "2026-07-02");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
