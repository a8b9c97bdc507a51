// `terra-syncctl dump` against a running terra-syncd: dumps while the daemon
// writes, and --follow printing what lands after it started.

#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/tools/tool_support.h"

namespace terra {
namespace {

namespace json = boost::json;
using testing::ParseNdjson;
using testing::RunSyncctl;

constexpr char kUser[] = "40f7b0e1-89e2-43ac-a5b8-1e29c8d47cad";
constexpr int kDeliveries = 30;
constexpr auto kWaitTimeout = std::chrono::seconds(15);

// How long the daemon delays the late delivery's commit: longer than a
// follower could afford to re-read recent sequences on each poll.
constexpr char kHoldTime[] = "7s";

// A daily event for day `day` (1 to 28) of July 2026.
std::string DailyBody(int day, int64_t steps) {
  char date[11];
  snprintf(date, sizeof(date), "2026-07-%02d", day);
  json::object body{
      {"type", "daily"},
      {"user", {{"user_id", kUser}, {"provider", "GARMIN"}}},
      {"data", json::array{json::object{
                   {"metadata",
                    {{"start_time", std::string(date) + "T00:00:00+00:00"}}},
                   {"distance_data", {{"steps", steps}}}}}}};
  return json::serialize(body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dump_live)

BOOST_AUTO_TEST_CASE(dump_while_daemon_writes) {
  testing::TempDir dir;
  testing::RunningDaemon daemon(dir, dir.Sub("store"));
  std::atomic<int> sent{0};
  std::thread writer([&] {
    for (int i = 0; i < kDeliveries; ++i) {
      if (daemon.Send(DailyBody(i % 28 + 1, i), "w" + std::to_string(i))
              .status == 200) {
        ++sent;
      }
    }
  });

  // Each dump during the writes must succeed and print whole objects.
  for (int round = 0; round < 5; ++round) {
    testing::CommandResult run =
        RunSyncctl({"dump", "--store", dir.Sub("store"), "deliveries",
                    "--format", "ndjson"},
                   dir);
    BOOST_TEST(run.exit_code == 0, run.err);
    BOOST_TEST(ParseNdjson(run.out).size() <= static_cast<size_t>(kDeliveries));
  }
  writer.join();

  testing::CommandResult run = RunSyncctl(
      {"dump", "--store", dir.Sub("store"), "deliveries", "--format", "ndjson"},
      dir);
  BOOST_TEST(sent.load() == kDeliveries);
  BOOST_TEST(ParseNdjson(run.out).size() == static_cast<size_t>(kDeliveries));
}

BOOST_AUTO_TEST_CASE(follow_sees_new_delivery) {
  testing::TempDir dir;
  testing::RunningDaemon daemon(dir, dir.Sub("store"));
  BOOST_REQUIRE(daemon.Send(DailyBody(1, 100), "before").status == 200);

  testing::BackgroundSyncctl deliveries(
      {"dump", "--store", dir.Sub("store"), "deliveries", "--follow",
       "--poll-interval", "100", "--format", "ndjson"},
      dir.Sub("deliveries.out"));
  testing::BackgroundSyncctl records(
      {"dump", "--store", dir.Sub("store"), "records", "--follow",
       "--poll-interval", "100", "--format", "ndjson"},
      dir.Sub("records.out"));
  BOOST_REQUIRE(deliveries.WaitForOutput("\"before\"", kWaitTimeout));
  BOOST_REQUIRE(records.WaitForOutput("2026-07-01", kWaitTimeout));

  BOOST_REQUIRE(daemon.Send(DailyBody(9, 900), "after").status == 200);
  BOOST_TEST(deliveries.WaitForOutput("\"after\"", kWaitTimeout));
  BOOST_TEST(records.WaitForOutput("2026-07-09", kWaitTimeout));

  BOOST_TEST(deliveries.Interrupt() == 0);
  BOOST_TEST(records.Interrupt() == 0);
  std::vector<json::object> printed = ParseNdjson(records.Output());
  BOOST_REQUIRE(printed.size() == 2u);
  BOOST_TEST(printed[1].at("natural_id").as_string() == "2026-07-09");
  BOOST_TEST(json::value(printed[1])
                 .at_pointer("/item/distance_data/steps")
                 .to_number<int>() == 900);
}

BOOST_AUTO_TEST_CASE(follow_prints_late_commit) {
  testing::TempDir dir;
  testing::RunningDaemon daemon(
      dir, dir.Sub("store"),
      {"--test-commit-delay", kHoldTime, "--test-hold-trace-id", "late"});
  BOOST_REQUIRE(daemon.Send(DailyBody(1, 100), "before").status == 200);
  testing::BackgroundSyncctl deliveries(
      {"dump", "--store", dir.Sub("store"), "deliveries", "--follow",
       "--poll-interval", "100", "--format", "ndjson"},
      dir.Sub("deliveries.out"));
  testing::BackgroundSyncctl records(
      {"dump", "--store", dir.Sub("store"), "records", "--follow",
       "--poll-interval", "100", "--format", "ndjson"},
      dir.Sub("records.out"));
  BOOST_REQUIRE(deliveries.WaitForOutput("\"before\"", kWaitTimeout));
  BOOST_REQUIRE(records.WaitForOutput("2026-07-01", kWaitTimeout));

  // "late" takes its sequence first; the daemon delays its commit while the
  // two deliveries after it, with higher sequences, commit.
  unsigned late_status = 0;
  std::thread late_sender(
      [&] { late_status = daemon.Send(DailyBody(3, 300), "late").status; });
  bool hold_started = daemon.WaitForLog("test hold of 'late'", kWaitTimeout);
  unsigned after_1 = daemon.Send(DailyBody(4, 400), "after-1").status;
  unsigned after_2 = daemon.Send(DailyBody(5, 500), "after-2").status;
  late_sender.join();
  BOOST_REQUIRE(hold_started);
  BOOST_TEST(after_1 == 200u);
  BOOST_TEST(after_2 == 200u);
  BOOST_TEST(late_status == 200u);

  BOOST_TEST(deliveries.WaitForOutput("\"late\"", kWaitTimeout));
  BOOST_TEST(deliveries.WaitForOutput("\"after-2\"", kWaitTimeout));
  BOOST_TEST(records.WaitForOutput("2026-07-03", kWaitTimeout));
  BOOST_TEST(records.WaitForOutput("2026-07-05", kWaitTimeout));
  BOOST_TEST(deliveries.Interrupt() == 0);
  BOOST_TEST(records.Interrupt() == 0);

  // Each delivery and record once, deliveries in sequence order.
  BOOST_TEST(testing::JoinMember(ParseNdjson(deliveries.Output()),
                                 "trace_id") == "before late after-1 after-2");
  BOOST_TEST(testing::JoinMember(ParseNdjson(records.Output()),
                                 "natural_id") ==
             "2026-07-01 2026-07-03 2026-07-04 2026-07-05");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra
