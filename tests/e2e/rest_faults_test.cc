// How the daemon's REST side handles Terra's failure modes, end to end: a
// backfill of daily data against a fake that returns 429 of either rule,
// 500, a `processing` body, invalid JSON or a certificate for another host.

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <set>
#include <thread>

#include "daemon/date_windows.h"
#include "tests/e2e/rest_fixture.h"
#include "tests/support/fixtures.h"

namespace terra::testing {
namespace {

constexpr auto kWait = std::chrono::seconds(30);

// Arguments for a backfill of `days` of daily data only.
std::vector<std::string> DailyArgs(const TerraFixture& terra, int days,
                                   std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--backfill-days",     std::to_string(days),
                                "--rest-data-types",   "daily",
                                "--rest-max-attempts", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return terra.Args(args);
}

void Authorize(DaemonFixture& daemon) {
  BOOST_REQUIRE(
      daemon.Send(ReadFixture("auth_success.json"), "auth-1").status == 200u);
}

// Dates covered by the daily requests that the fake served with data.
std::set<std::string> ServedDays(const std::vector<RecordedRequest>& requests,
                                 const std::set<size_t>& refused) {
  std::set<std::string> days;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (refused.contains(i)) {
      continue;
    }
    std::chrono::sys_days start;
    std::chrono::sys_days end;
    BOOST_REQUIRE(daemon::ParseDate(requests[i].Query("start_date"), &start));
    BOOST_REQUIRE(daemon::ParseDate(requests[i].Query("end_date"), &end));
    for (auto day = start; day < end; day += std::chrono::days(1)) {
      days.insert(daemon::FormatDate(day));
    }
  }
  return days;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rest_faults)

BOOST_AUTO_TEST_CASE(r2_waits_for_retry_after) {
  TerraFixture terra;
  std::atomic<int> calls{0};
  terra.fake_.SetHandler([&calls](const RecordedRequest& request) {
    if (++calls == 1) {
      return FakeReply{429,
                       "{\"message\":\"rate limited\"}",
                       {{"X-Terra-RateLimit-Rule", "r2"}, {"Retry-After", "2"}},
                       {}};
    }
    return DataReply(request);
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 3));
  Authorize(daemon);
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "backfill", "done") == 1; },
                kWait),
      daemon.daemon().Log());

  std::vector<RecordedRequest> requests = terra.fake_.Requests();
  BOOST_REQUIRE(requests.size() == 2u);
  BOOST_TEST(requests[1].Query("start_date") ==
             requests[0].Query("start_date"));
  BOOST_TEST(requests[1].Query("end_date") == requests[0].Query("end_date"));
  BOOST_TEST((requests[1].at - requests[0].at) >= std::chrono::seconds(2));
  BOOST_TEST(daemon.daemon().Log().find("rate limited (rule r2)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(r1_shrinks_window) {
  TerraFixture terra;
  terra.fake_.SetHandler([](const RecordedRequest& request) {
    std::chrono::sys_days start;
    std::chrono::sys_days end;
    if (daemon::ParseDate(request.Query("start_date"), &start) &&
        daemon::ParseDate(request.Query("end_date"), &end) &&
        (end - start).count() > 2) {
      return FakeReply{429,
                       "{\"message\":\"too many days\"}",
                       {{"X-Terra-RateLimit-Rule", "r1"}},
                       {}};
    }
    return DataReply(request);
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 8));
  Authorize(daemon);
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "backfill", "done") == 1; },
                kWait),
      daemon.daemon().Log());

  // 03-03..03-11 (8 days) splits into halves until each is at most 2 days.
  // An r1 rejection needs no waiting, and the small windows serve every day.
  std::vector<RecordedRequest> requests = terra.fake_.Requests();
  std::set<size_t> refused;
  for (size_t i = 0; i < requests.size(); ++i) {
    std::chrono::sys_days start;
    std::chrono::sys_days end;
    BOOST_REQUIRE(daemon::ParseDate(requests[i].Query("start_date"), &start));
    BOOST_REQUIRE(daemon::ParseDate(requests[i].Query("end_date"), &end));
    if ((end - start).count() > 2) {
      refused.insert(i);
    }
  }
  BOOST_TEST(refused.size() == 3u);
  BOOST_TEST(requests.size() == 7u);
  BOOST_TEST(ServedDays(requests, refused).size() == 8u);
  BOOST_TEST(daemon.Dump({"records", "--type", "daily"}).size() == 8u);
}

BOOST_AUTO_TEST_CASE(server_error_retried) {
  TerraFixture terra;
  std::atomic<int> calls{0};
  terra.fake_.SetHandler([&calls](const RecordedRequest& request) {
    if (++calls == 1) {
      return FakeReply{500, "internal error", {}, {}};
    }
    return DataReply(request);
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 2));
  Authorize(daemon);
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "backfill", "done") == 1; },
                kWait),
      daemon.daemon().Log());
  BOOST_TEST(terra.fake_.Requests().size() == 2u);
  BOOST_TEST(daemon.Dump({"records", "--type", "daily"}).size() == 2u);
  BOOST_TEST(daemon.daemon().Log().find("HTTP 500") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(processing_asked_once_more) {
  TerraFixture terra;
  std::atomic<int> calls{0};
  terra.fake_.SetHandler([&calls](const RecordedRequest& request) {
    if (++calls == 1) {
      return FakeReply{
          200, "{\"status\":\"processing\",\"retry_after_seconds\":1}", {}, {}};
    }
    return DataReply(request);
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 2));
  Authorize(daemon);
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "backfill", "done") == 1; },
                kWait),
      daemon.daemon().Log());
  std::vector<RecordedRequest> requests = terra.fake_.Requests();
  BOOST_REQUIRE(requests.size() == 2u);
  BOOST_TEST((requests[1].at - requests[0].at) >= std::chrono::seconds(1));
  BOOST_TEST(daemon.Dump({"records", "--type", "daily"}).size() == 2u);
}

BOOST_AUTO_TEST_CASE(processing_delay_capped) {
  TerraFixture terra;
  terra.fake_.SetHandler([](const RecordedRequest&) {
    return FakeReply{
        200, "{\"status\":\"processing\",\"retry_after_seconds\":1e300}",
        {}, {}};
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 2));
  Authorize(daemon);
  // A week, the longest wait the daemon accepts from Terra.
  BOOST_TEST(daemon.daemon().WaitForLog("asking again in 604800 s"),
             daemon.daemon().Log());
}

BOOST_AUTO_TEST_CASE(invalid_json_fails_window) {
  TerraFixture terra;
  terra.fake_.SetHandler([](const RecordedRequest&) {
    return FakeReply{200, "{\"data\": [", {}, {}};
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 2));
  Authorize(daemon);
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "backfill", "failed") == 1; },
                kWait),
      daemon.daemon().Log());
  // Two attempts (--rest-max-attempts 2), then the window is recorded as
  // failed and nothing is stored.
  BOOST_TEST(terra.fake_.Requests().size() == 2u);
  BOOST_TEST(daemon.Dump({"records", "--type", "daily"}).empty());
  BOOST_TEST(daemon.daemon().Log().find("not a JSON object") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_host_certificate_refused) {
  TerraFixture terra("DNS:wrong.example");
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 2));
  Authorize(daemon);
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "backfill", "failed") == 1; },
                kWait),
      daemon.daemon().Log());
  BOOST_TEST(terra.fake_.Requests().empty());
  std::string log = daemon.daemon().Log();
  BOOST_TEST(log.find("certificate rejected") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(day_budget_respected) {
  TerraFixture terra;
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 20, {"--rest-days-per-hour", "10"}));
  Authorize(daemon);
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return !terra.fake_.Requests().empty(); }, kWait),
      daemon.daemon().Log());
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // 20 days in windows of 28 at most, but only 10 days may be asked per
  // hour: the job waits with the rest unasked.
  int days = 0;
  for (const RecordedRequest& request : terra.fake_.Requests()) {
    std::chrono::sys_days start;
    std::chrono::sys_days end;
    BOOST_REQUIRE(daemon::ParseDate(request.Query("start_date"), &start));
    BOOST_REQUIRE(daemon::ParseDate(request.Query("end_date"), &end));
    days += (end - start).count();
  }
  BOOST_TEST(days <= 10);
  BOOST_TEST(CountJobs(daemon, "backfill", "done") == 0);
}

BOOST_AUTO_TEST_CASE(secrets_never_logged) {
  TerraFixture terra;
  terra.fake_.SetHandler([](const RecordedRequest& request) {
    return request.Type() == "subscriptions" ? SubscriptionsReply({}, -1)
                                             : DataReply(request);
  });
  terra.SetClock("2026-03-10T12:00");
  DaemonFixture daemon(DailyArgs(terra, 2, {"--log-level", "trace"}));
  Authorize(daemon);
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "backfill", "done") == 1; },
                kWait),
      daemon.daemon().Log());
  terra.SetClock("2026-03-11T03:31");
  BOOST_REQUIRE_MESSAGE(
      WaitUntil([&] { return CountJobs(daemon, "reconcile", "done") == 1; },
                kWait),
      daemon.daemon().Log());
  std::string log = daemon.daemon().Log();
  BOOST_TEST(log.find("reconciliation (nightly) starting") !=
             std::string::npos);
  BOOST_TEST(log.find(kRestDevId) == std::string::npos);
  BOOST_TEST(log.find(kRestApiKey) == std::string::npos);
  for (const RecordedRequest& request : terra.fake_.Requests()) {
    BOOST_TEST(request.headers.at("dev-id") == kRestDevId);
    BOOST_TEST(request.headers.at("x-api-key") == kRestApiKey);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
