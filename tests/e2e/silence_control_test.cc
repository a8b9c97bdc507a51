// Silence detection and the operator's control commands through the real
// terra-syncd and terra-syncctl, against the fake Terra API.

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <regex>
#include <thread>

#include "tests/e2e/rest_fixture.h"
#include "tests/support/http_client.h"

namespace terra::testing {
namespace {

constexpr char kUserB[] = "b7d3f4a2-0c61-4f0e-9d8e-2b5a7c1e9f30";
constexpr auto kWait = std::chrono::seconds(30);

void Connect(DaemonFixture& daemon, const std::string& user_id,
             const std::string& trace_id) {
  BOOST_REQUIRE(
      daemon
          .Send(DailyBody(user_id, "2026-03-01T00:00:00+00:00", 100), trace_id)
          .status == 200u);
}

size_t CountInLog(const std::string& log, const std::string& text) {
  size_t count = 0;
  for (size_t at = log.find(text); at != std::string::npos;
       at = log.find(text, at + 1)) {
    ++count;
  }
  return count;
}

// The admin TCP port from the daemon's log.
uint16_t AdminPort(DaemonFixture& daemon) {
  BOOST_REQUIRE(daemon.daemon().WaitForLog("admin listener"));
  std::smatch match;
  std::string log = daemon.daemon().Log();
  static const std::regex kAdmin(
      R"(admin listener \(health, metrics\) on [0-9.]+:([0-9]+))");
  BOOST_REQUIRE(std::regex_search(log, match, kAdmin));
  return static_cast<uint16_t>(std::stoi(match[1].str()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(silence)

BOOST_AUTO_TEST_CASE(quiet_connection_pulled_once) {
  TerraFixture terra;
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args({"--silence-connection-after", "3600",
                                   "--reconcile-subscriptions", "false"}));
  Connect(daemon, kUserA, "a-1");
  terra.SetClock("2026-03-10T12:59");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  BOOST_TEST(terra.fake_.Requests().empty());

  // An hour without a webhook: the days since the last one are pulled.
  terra.SetClock("2026-03-10T13:01");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 1; },
                kWait),
      daemon.daemon().Log());
  BOOST_TEST(Windows(terra.fake_, "daily") ==
             std::vector<std::string>{std::string(kUserA) +
                                      " 2026-03-10..2026-03-11"});
  std::string log = daemon.daemon().Log();
  BOOST_TEST(CountInLog(log, "silence: no webhook for this connection") == 1u);

  // Only once per silence; a webhook ends it, and the next silence pulls
  // again.
  terra.SetClock("2026-03-10T16:00");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  BOOST_TEST(Windows(terra.fake_, "daily").size() == 1u);
  Connect(daemon, kUserA, "a-2");
  terra.SetClock("2026-03-10T17:01");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 2; },
                kWait),
      daemon.daemon().Log());

  HttpResult metrics = Get(AdminPort(daemon), "/metrics");
  BOOST_TEST(
      metrics.body.find("terra_silence_pulls_total{kind=\"connection\"} 2") !=
      std::string::npos);
  BOOST_TEST(
      metrics.body.find("terra_rest_requests_total{status=\"200\"} 14") !=
      std::string::npos);
  BOOST_TEST(metrics.body.find("terra_silent_connections") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_delivery_pulls_every_connection) {
  TerraFixture terra;
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args(
      {"--silence-terra-after", "1800", "--reconcile-subscriptions", "false"}));
  Connect(daemon, kUserA, "a-1");
  Connect(daemon, kUserB, "b-1");
  terra.SetClock("2026-03-10T12:31");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 2; },
                kWait),
      daemon.daemon().Log());
  BOOST_TEST(CountInLog(daemon.daemon().Log(),
                        "silence: no delivery from Terra at all") == 2u);
  BOOST_TEST(Windows(terra.fake_, "daily").size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(control)

BOOST_AUTO_TEST_CASE(backfill_command_queues_range) {
  TerraFixture terra;
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args({}));
  Connect(daemon, kUserA, "a-1");

  CommandResult result =
      RunSyncctl(terra.dir_, {"backfill", "--socket", terra.admin_socket(),
                              "--user", kUserA, "--from", "2026-02-27", "--to",
                              "2026-03-02", "--wait"});
  BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
  BOOST_TEST(result.out.find("backfill job ") != std::string::npos);
  BOOST_TEST(result.out.find(" done") != std::string::npos);
  // The range splits at the month boundary; --to is included.
  BOOST_TEST(Windows(terra.fake_, "daily") ==
             (std::vector<std::string>{
                 std::string(kUserA) + " 2026-02-27..2026-03-01",
                 std::string(kUserA) + " 2026-03-01..2026-03-03"}));
}

BOOST_AUTO_TEST_CASE(backfill_rejects_unknown_user) {
  TerraFixture terra;
  DaemonFixture daemon(terra.Args({}));
  CommandResult result = RunSyncctl(
      terra.dir_, {"backfill", "--socket", terra.admin_socket(), "--user",
                   "nobody", "--from", "2026-03-01", "--to", "2026-03-02"});
  BOOST_TEST(result.exit_code == 1);
  BOOST_TEST(result.err.find("unknown user nobody") != std::string::npos);
  BOOST_TEST(terra.fake_.Requests().empty());
}

BOOST_AUTO_TEST_CASE(reconcile_command_waits_for_jobs) {
  TerraFixture terra;
  terra.fake_.SetHandler([](const RecordedRequest& request) {
    return request.Type() == "subscriptions" ? SubscriptionsReply({}, -1)
                                             : DataReply(request);
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(terra.Args({"--reconcile-look-back-days", "1"}));
  Connect(daemon, kUserA, "a-1");

  CommandResult result = RunSyncctl(
      terra.dir_, {"reconcile", "--socket", terra.admin_socket(), "--wait"});
  BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
  BOOST_TEST(result.out.find("reconciliation queued 1 job(s)") !=
             std::string::npos);
  BOOST_TEST(result.out.find(" done") != std::string::npos);
  BOOST_TEST(Windows(terra.fake_, "daily") ==
             std::vector<std::string>{std::string(kUserA) +
                                      " 2026-03-09..2026-03-10"});
}

BOOST_AUTO_TEST_CASE(control_routes_refused_over_tcp) {
  TerraFixture terra;
  DaemonFixture daemon(terra.Args({}));
  uint16_t port = AdminPort(daemon);
  BOOST_TEST(Post(port, "/reconcile", {}, "").status == 403u);
  BOOST_TEST(Get(port, "/jobs").status == 403u);
  BOOST_TEST(terra.fake_.Requests().empty());
}

BOOST_AUTO_TEST_CASE(daemon_not_running) {
  TempDir dir;
  CommandResult result =
      RunSyncctl(dir, {"reconcile", "--socket", dir.Sub("missing.sock")});
  BOOST_TEST(result.exit_code == 4);
  BOOST_TEST(result.err.find("daemon is not running") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rest_off_answers_503) {
  TempDir dir;
  DaemonFixture daemon({"--admin-socket", dir.Sub("admin.sock"),
                        "--admin-listen", "127.0.0.1:0"});
  CommandResult result =
      RunSyncctl(dir, {"reconcile", "--socket", dir.Sub("admin.sock")});
  BOOST_TEST(result.exit_code == 3);
  BOOST_TEST(result.err.find("REST is off: set terra-dev-id-file and "
                             "terra-api-key-file") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
