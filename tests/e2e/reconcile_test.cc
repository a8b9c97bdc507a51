// Nightly reconciliation through the real terra-syncd against the fake
// Terra API, with the daemon's clock driven from a file: which days it
// pulls for which connections, catching up after missed nights, a restart
// in the middle, and /subscriptions discovery.

#include <algorithm>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <set>
#include <thread>

#include "tests/e2e/rest_fixture.h"
#include "tests/support/fixtures.h"

namespace terra::testing {
namespace {

constexpr char kUserB[] = "b7d3f4a2-0c61-4f0e-9d8e-2b5a7c1e9f30";
constexpr char kUserC[] = "c0e8a9d1-5b4f-4e7a-8c2d-6f1b3a9e7d54";
constexpr char kUserD[] = "d9a1c7e3-2f8b-4d6a-b0e5-7c3f1a8d2e96";

// Data types and requests of one reconcile job for one connection.
constexpr size_t kTypes = 7;

constexpr auto kWait = std::chrono::seconds(30);

// Returns data for data requests and `users` for /subscriptions.
FakeHandler WithSubscriptions(std::vector<std::pair<std::string, bool>> users) {
  return [users](const RecordedRequest& request) {
    if (request.Type() == "subscriptions") {
      return SubscriptionsReply(users, -1);
    }
    return DataReply(request);
  };
}

// Creates an active connection for `user_id` from a data webhook, which
// queues no backfill.
void Connect(DaemonFixture& daemon, const std::string& user_id,
             const std::string& trace_id) {
  BOOST_REQUIRE(
      daemon
          .Send(DailyBody(user_id, "2026-03-01T00:00:00+00:00", 100), trace_id)
          .status == 200u);
}

size_t CountWindow(const FakeTerra& fake, const std::string& type,
                   const std::string& window) {
  std::vector<std::string> windows = Windows(fake, type);
  return static_cast<size_t>(
      std::count(windows.begin(), windows.end(), window));
}

std::set<std::string> RequestedUsers(const FakeTerra& fake) {
  std::set<std::string> users;
  for (const RecordedRequest& request : fake.Requests()) {
    if (request.Type() != "subscriptions") {
      users.insert(request.Query("user_id"));
    }
  }
  return users;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reconcile)

BOOST_AUTO_TEST_CASE(finished_jobs_expire) {
  TerraFixture terra;
  terra.fake_.SetHandler(WithSubscriptions({}));
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args(
      {"--reconcile-look-back-days", "1", "--job-retention-days", "30"}));
  Connect(daemon, kUserA, "a-1");
  terra.SetClock("2026-03-11T03:31");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 1; },
                kWait),
      daemon.daemon().Log());

  // A month later the job of March 11 has expired, and the night of April
  // 11 queues a new one.
  terra.SetClock("2026-04-11T12:00");

  BOOST_REQUIRE_MESSAGE(
      daemon.daemon().WaitForLog("retention: deleted 1 jobs finished more "
                                 "than 30 day(s) ago"),
      daemon.daemon().Log());
  BOOST_TEST(WaitUntil(
      [&] {
        return CountJobs(daemon, "reconcile", "done") == 1 &&
               CountJobs(daemon, "reconcile", "queued") == 0 &&
               CountJobs(daemon, "reconcile", "running") == 0;
      },
      kWait));
}

BOOST_AUTO_TEST_CASE(pulls_previous_day_for_active_only) {
  TerraFixture terra;
  terra.fake_.SetHandler(WithSubscriptions({}));
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args({"--reconcile-look-back-days", "1"}));
  Connect(daemon, kUserA, "a-1");
  Connect(daemon, kUserB, "b-1");
  SendLifecycle(daemon, "deauth", kUserB, "b-2");
  Connect(daemon, kUserC, "c-1");
  SendLifecycle(daemon, "connection_error", kUserC, "c-2");
  BOOST_TEST(terra.fake_.Requests().empty());

  // Before 03:30 nothing runs; after it, the previous day is pulled.
  terra.SetClock("2026-03-11T03:29");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  BOOST_TEST(terra.fake_.Requests().empty());
  terra.SetClock("2026-03-11T03:31");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 2; },
                kWait),
      daemon.daemon().Log());

  std::string window = "2026-03-10..2026-03-11";
  BOOST_TEST(CountWindow(terra.fake_, "daily",
                         std::string(kUserA) + " " + window) == 1u);
  BOOST_TEST(CountWindow(terra.fake_, "sleep",
                         std::string(kUserA) + " " + window) == 1u);
  // The connection in error has no checkpoint yet, so its first night
  // counts as due; the revoked one is never pulled.
  BOOST_TEST(RequestedUsers(terra.fake_) ==
             (std::set<std::string>{kUserA, kUserC}));
  BOOST_TEST(terra.fake_.RequestsFor("subscriptions").size() == 1u);
  BOOST_TEST(terra.fake_.Requests().size() == 2 * kTypes + 1);

  // The next night the connection in error waits for its lower rate.
  terra.SetClock("2026-03-12T03:31");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 3; },
                kWait),
      daemon.daemon().Log());
  BOOST_TEST(CountWindow(terra.fake_, "daily",
                         std::string(kUserA) + " 2026-03-11..2026-03-12") ==
             1u);
  BOOST_TEST(Windows(terra.fake_, "daily").size() == 3u);
}

BOOST_AUTO_TEST_CASE(catches_up_after_three_missed_nights) {
  TerraFixture terra;
  terra.fake_.SetHandler(WithSubscriptions({}));
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args({"--reconcile-look-back-days", "1"}));
  Connect(daemon, kUserA, "a-1");
  terra.SetClock("2026-03-11T03:31");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 1; },
                kWait),
      daemon.daemon().Log());

  // Down over the nights of 03-12, 03-13 and 03-14.
  BOOST_REQUIRE_MESSAGE(daemon.daemon().Stop() == 0, daemon.daemon().Log());
  terra.SetClock("2026-03-15T03:00");
  BOOST_REQUIRE(daemon.daemon().Start());
  BOOST_REQUIRE(daemon.daemon().WaitForLog(
      "next reconciliation at 2026-03-15 03:30:00 UTC"));
  terra.SetClock("2026-03-15T03:31");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 2; },
                kWait),
      daemon.daemon().Log());

  BOOST_TEST(Windows(terra.fake_, "daily") ==
             (std::vector<std::string>{
                 std::string(kUserA) + " 2026-03-10..2026-03-11",
                 std::string(kUserA) + " 2026-03-11..2026-03-15"}));
}

BOOST_AUTO_TEST_CASE(recovers_missed_webhook_across_kill) {
  TerraFixture terra;
  terra.fake_.SetHandler([](const RecordedRequest& request) {
    if (request.Type() == "subscriptions") {
      return SubscriptionsReply({}, -1);
    }
    FakeReply reply = DataReply(request);
    reply.delay = std::chrono::milliseconds(300);
    return reply;
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args({"--reconcile-look-back-days", "2"}));
  Connect(daemon, kUserA, "a-1");
  BOOST_TEST(daemon
                 .Dump({"records", "--type", "daily", "--from", "2026-03-09",
                        "--to", "2026-03-10"})
                 .empty());

  // Kill the daemon while the reconcile job is halfway through its types.
  terra.SetClock("2026-03-11T03:31");
  BOOST_REQUIRE(
      WaitUntil([&] { return terra.fake_.Requests().size() >= 4; }, kWait));
  daemon.daemon().Kill();
  size_t before_kill = terra.fake_.Requests().size();
  BOOST_REQUIRE(before_kill < kTypes + 1);
  BOOST_REQUIRE(daemon.daemon().Start());
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 1; },
                kWait),
      daemon.daemon().Log());

  // Every type was stored once; at most the request in flight repeats.
  size_t total = terra.fake_.Requests().size();
  BOOST_TEST(total >= kTypes + 1);
  BOOST_TEST(total <= kTypes + 2);
  std::vector<boost::json::object> daily =
      daemon.Dump({"records", "--type", "daily", "--from", "2026-03-09", "--to",
                   "2026-03-10"});
  BOOST_REQUIRE(daily.size() == 2u);
  for (const boost::json::object& record : daily) {
    BOOST_TEST(record.at("source").as_string() == "reconcile");
  }
  BOOST_TEST(daemon.Dump({"records", "--type", "sleep"}).size() == 2u);
}

BOOST_AUTO_TEST_CASE(subscriptions_discover_and_revoke) {
  TerraFixture terra;
  terra.fake_.SetHandler([](const RecordedRequest& request) {
    if (request.Type() != "subscriptions") {
      return DataReply(request);
    }
    if (request.Query("page") == "0") {
      return SubscriptionsReply({{kUserA, true}, {kUserB, false}}, 1);
    }
    return SubscriptionsReply({{kUserC, true}, {kUserD, false}}, -1);
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args({"--reconcile-look-back-days", "1"}));
  Connect(daemon, kUserA, "a-1");
  Connect(daemon, kUserB, "b-1");
  terra.SetClock("2026-03-11T03:31");

  // C was never announced by a webhook: it becomes a connection and gets a
  // backfill, which leaves no reconcile job for it this night. B is
  // inactive at Terra and D is unknown and inactive.
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "backfill", "done") == 1; },
                kWait),
      daemon.daemon().Log());
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 1; },
                kWait),
      daemon.daemon().Log());
  std::map<std::string, std::string> states = ConnectionStates(daemon);
  BOOST_TEST(states.size() == 3u);
  BOOST_TEST(states[kUserA] == "active");
  BOOST_TEST(states[kUserB] == "revoked");
  BOOST_TEST(states[kUserC] == "active");

  std::vector<RecordedRequest> pages = terra.fake_.RequestsFor("subscriptions");
  BOOST_REQUIRE(pages.size() == 2u);
  BOOST_TEST(pages[0].Query("page") == "0");
  BOOST_TEST(pages[1].Query("page") == "1");
  BOOST_TEST(pages[0].Query("per_page") == "500");
  BOOST_TEST(RequestedUsers(terra.fake_) ==
             (std::set<std::string>{kUserA, kUserC}));
  BOOST_TEST(CountWindow(terra.fake_, "daily",
                         std::string(kUserC) + " 2026-03-11..2026-03-12") ==
             1u);
  BOOST_TEST(Windows(terra.fake_, "daily").size() == 2u);
  BOOST_TEST(daemon.daemon().Log().find("user " + std::string(kUserC) +
                                        " is unknown here") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
