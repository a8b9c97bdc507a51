// Retention through the real terra-syncd: archived deliveries older than
// delivery-retention-days are deleted, and the records they wrote stay.
// A test clock file moves the daemon's retention clock a month ahead.

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

namespace terra::testing {
namespace {

// Writes unix time `days` from now into the test clock file `path`.
void SetClockDaysAhead(const std::string& path, int days) {
  auto ahead = std::chrono::system_clock::now() + std::chrono::hours(24) * days;
  WriteFile(path,
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                               ahead.time_since_epoch())
                               .count()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retention)

BOOST_AUTO_TEST_CASE(expired_deliveries_deleted_records_kept) {
  TempDir clock_dir;
  std::string clock = clock_dir.Sub("clock");
  DaemonFixture daemon(
      {"--test-clock-file", clock, "--delivery-retention-days", "30"});
  BOOST_REQUIRE(
      daemon.daemon().WaitForLog("archived deliveries are kept for 30 day(s)"));
  for (int day = 1; day <= 3; ++day) {
    std::string date = "2026-03-0" + std::to_string(day) + "T00:00:00+00:00";
    HttpResult result = daemon.Send(DailyBody(kUserA, date, 100 * day),
                                    "retention-" + std::to_string(day));
    BOOST_REQUIRE_EQUAL(result.status, 200u);
  }
  BOOST_REQUIRE_EQUAL(daemon.Dump({"deliveries"}).size(), 3u);

  // Sweeps run every second under a test clock; two seconds give one.
  SetClockDaysAhead(clock, 29);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  BOOST_TEST(daemon.Dump({"deliveries"}).size() == 3u);
  SetClockDaysAhead(clock, 31);

  BOOST_REQUIRE_MESSAGE(
      daemon.daemon().WaitForLog("retention: deleted 3 archived deliveries"),
      daemon.daemon().Log());
  BOOST_TEST(daemon.Dump({"deliveries"}).empty());
  BOOST_TEST(daemon.Dump({"records", "--type", "daily"}).size() == 3u);
}

BOOST_AUTO_TEST_CASE(zero_keeps_every_delivery) {
  TempDir clock_dir;
  std::string clock = clock_dir.Sub("clock");
  DaemonFixture daemon(
      {"--test-clock-file", clock, "--delivery-retention-days", "0"});
  BOOST_REQUIRE(
      daemon.daemon().WaitForLog("archived deliveries are kept forever"));
  HttpResult result =
      daemon.Send(DailyBody(kUserA, "2026-03-01T00:00:00+00:00", 10), "keep-1");
  BOOST_REQUIRE_EQUAL(result.status, 200u);

  SetClockDaysAhead(clock, 3650);
  std::this_thread::sleep_for(std::chrono::seconds(3));

  BOOST_TEST(daemon.Dump({"deliveries"}).size() == 1u);
  BOOST_TEST(daemon.daemon().Log().find("retention: deleted") ==
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(reload_turns_retention_on) {
  TempDir dir;
  std::string clock = dir.Sub("clock");
  std::string conf = dir.Sub("terra-syncd.conf");
  WriteFile(conf, "delivery-retention-days = 0\n");
  DaemonFixture daemon({"--config", conf, "--test-clock-file", clock});
  BOOST_REQUIRE(
      daemon.daemon().WaitForLog("archived deliveries are kept forever"));
  HttpResult result = daemon.Send(
      DailyBody(kUserA, "2026-03-01T00:00:00+00:00", 10), "reload-1");
  BOOST_REQUIRE_EQUAL(result.status, 200u);
  SetClockDaysAhead(clock, 31);

  WriteFile(conf, "delivery-retention-days = 30\n");
  daemon.daemon().Signal(SIGHUP);

  BOOST_REQUIRE_MESSAGE(
      daemon.daemon().WaitForLog("retention: deleted 1 archived deliveries"),
      daemon.daemon().Log());
  BOOST_TEST(daemon.Dump({"deliveries"}).empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
