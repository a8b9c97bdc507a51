// Backfill on connect through the real terra-syncd against the fake Terra
// API: an `auth` webhook leads to REST requests, their data lands in the
// store, and a job killed halfway resumes after a restart.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>
#include <thread>

#include "daemon/date_windows.h"
#include "store/queries.h"
#include "store/store.h"
#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fake_terra.h"
#include "tests/support/fixtures.h"
#include "tests/support/test_certs.h"

namespace terra::testing {
namespace {

constexpr char kDevId[] = "dev-id-3f9c2a";
constexpr char kApiKey[] = "api-key-7be41d";
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr int kDateTypes = 6;  // every default type except athlete

// A fake Terra API with a test CA and the daemon arguments that point at it.
class RestFixture {
 public:
  RestFixture()
      : ca_(dir_.path().string()),
        certificate_(ca_.Issue("server", "IP:127.0.0.1")),
        fake_(certificate_.cert_file, certificate_.key_file) {
    WriteFile(dir_.Sub("dev-id"), std::string(kDevId) + "\n");
    WriteFile(dir_.Sub("api-key"), std::string(kApiKey) + "\n");
  }

  std::vector<std::string> Args(int backfill_days) const {
    return {"--terra-base-url",     fake_.base_url(),
            "--terra-ca-file",      ca_.ca_file(),
            "--terra-dev-id-file",  dir_.Sub("dev-id"),
            "--terra-api-key-file", dir_.Sub("api-key"),
            "--backfill-days",      std::to_string(backfill_days)};
  }

  TempDir dir_;
  TestCa ca_;
  ServerCertificate certificate_;
  FakeTerra fake_;
};

// Counts the stored records of `type` by source, reading the store as a
// secondary instance while the daemon runs.
std::map<std::string, int> CountRecords(const std::string& store_path,
                                        const std::string& scratch,
                                        const std::string& type) {
  store::StoreOptions options;
  options.path = store_path;
  options.secondary = true;
  options.secondary_path = scratch;
  std::unique_ptr<store::Store> opened;
  store::Status status = store::Store::Open(options, &opened);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());

  std::map<std::string, int> counts;
  store::RecordFilter filter;
  filter.type = type;
  status = store::ForEachRecord(
      *opened, filter, [&counts](const store::RecordView& record) {
        ++counts[std::string(store::SourceName(record.envelope->source))];
        return true;
      });
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
  return counts;
}

// Waits up to `limit` for `type` to have `expected` backfilled records.
bool WaitForRecords(const DaemonFixture& daemon, const std::string& type,
                    int expected, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int attempt = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string scratch =
        daemon.dir().Sub("secondary-" + std::to_string(++attempt));
    if (CountRecords(daemon.store_path(), scratch, type)["backfill"] >=
        expected) {
      return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

std::chrono::sys_days Day(const std::string& text) {
  std::chrono::sys_days day{};
  BOOST_REQUIRE_MESSAGE(daemon::ParseDate(text, &day), text);
  return day;
}

bool SameMonth(std::chrono::sys_days first, std::chrono::sys_days last) {
  std::chrono::year_month_day a(first);
  std::chrono::year_month_day b(last);
  return a.year() == b.year() && a.month() == b.month();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backfill)

BOOST_AUTO_TEST_CASE(auth_fetches_every_type) {
  RestFixture rest;
  DaemonFixture daemon(rest.Args(28));
  BOOST_TEST(daemon.Send(ReadFixture("auth_success.json"), "auth-1").status ==
             200u);
  BOOST_REQUIRE(WaitForRecords(daemon, "daily", 28, std::chrono::seconds(30)));
  BOOST_REQUIRE(WaitForRecords(daemon, "athlete", 1, std::chrono::seconds(10)));

  std::set<std::string> types;
  for (const RecordedRequest& request : rest.fake_.Requests()) {
    types.insert(request.Type());
    BOOST_TEST(request.Query("user_id") == kUserA);
    BOOST_TEST(request.Query("to_webhook") == "false");
    BOOST_TEST(request.headers.at("dev-id") == kDevId);
    BOOST_TEST(request.headers.at("x-api-key") == kApiKey);
    if (request.Type() == "athlete") {
      continue;
    }
    BOOST_TEST(request.Query("with_samples") == "false");
    std::chrono::sys_days start = Day(request.Query("start_date"));
    std::chrono::sys_days end = Day(request.Query("end_date"));
    BOOST_TEST((end - start).count() >= 1);
    BOOST_TEST((end - start).count() <= 28);
    BOOST_TEST(SameMonth(start, end - std::chrono::days(1)));
  }
  BOOST_TEST(types ==
             (std::set<std::string>{"activity", "sleep", "daily", "body",
                                    "nutrition", "menstruation", "athlete"}));

  std::string scratch = daemon.dir().Sub("secondary-final");
  BOOST_TEST(CountRecords(daemon.store_path(), scratch, "sleep")["backfill"] ==
             28);
  BOOST_TEST(CountRecords(daemon.store_path(), scratch + "-2",
                          "daily")["webhook"] == 0);
}

BOOST_AUTO_TEST_CASE(per_type_scopes_limit_types) {
  RestFixture rest;
  DaemonFixture daemon(rest.Args(3));
  boost::json::value auth = boost::json::parse(ReadFixture("auth_success.json"));
  auth.at_pointer("/user/scopes") = "sleep:read,daily:read";
  BOOST_TEST(daemon.Send(boost::json::serialize(auth), "auth-1").status == 200u);
  BOOST_REQUIRE(WaitForRecords(daemon, "daily", 3, std::chrono::seconds(30)));
  BOOST_REQUIRE(WaitForRecords(daemon, "sleep", 3, std::chrono::seconds(10)));

  std::set<std::string> types;
  for (const RecordedRequest& request : rest.fake_.Requests()) {
    types.insert(request.Type());
  }
  BOOST_TEST(types == (std::set<std::string>{"sleep", "daily"}));
}

BOOST_AUTO_TEST_CASE(secrets_not_logged) {
  RestFixture rest;
  DaemonFixture daemon(rest.Args(3));
  BOOST_TEST(daemon.Send(ReadFixture("auth_success.json"), "auth-1").status ==
             200u);
  BOOST_REQUIRE(WaitForRecords(daemon, "daily", 3, std::chrono::seconds(30)));
  std::string log = daemon.daemon().Log();
  BOOST_TEST(log.find("REST backfill on") != std::string::npos);
  BOOST_TEST(log.find(kDevId) == std::string::npos);
  BOOST_TEST(log.find(kApiKey) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(ninety_days_in_month_windows) {
  RestFixture rest;
  DaemonFixture daemon(rest.Args(90));
  BOOST_TEST(daemon.Send(ReadFixture("auth_success.json"), "auth-1").status ==
             200u);
  BOOST_REQUIRE(
      WaitForRecords(daemon, "menstruation", 90, std::chrono::seconds(60)));

  std::vector<RecordedRequest> daily = rest.fake_.RequestsFor("daily");
  int days = 0;
  for (const RecordedRequest& request : daily) {
    std::chrono::sys_days start = Day(request.Query("start_date"));
    std::chrono::sys_days end = Day(request.Query("end_date"));
    days += (end - start).count();
    BOOST_TEST((end - start).count() <= 28);
    BOOST_TEST(SameMonth(start, end - std::chrono::days(1)));
  }
  BOOST_TEST(days == 90);
  BOOST_TEST(daily.size() >= 4u);
}

BOOST_AUTO_TEST_CASE(resumes_after_kill) {
  RestFixture rest;
  rest.fake_.SetHandler([](const RecordedRequest& request) {
    FakeReply reply = DataReply(request);
    reply.delay = std::chrono::milliseconds(200);
    return reply;
  });
  DaemonFixture daemon(rest.Args(90));
  BOOST_TEST(daemon.Send(ReadFixture("auth_success.json"), "auth-1").status ==
             200u);

  // Kill the daemon once a few windows are stored, in the middle of the job.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (rest.fake_.Requests().size() < 6 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  daemon.daemon().Kill();
  size_t before_kill = rest.fake_.Requests().size();
  BOOST_REQUIRE(before_kill >= 6u);
  BOOST_REQUIRE(daemon.daemon().Start());

  BOOST_REQUIRE(
      WaitForRecords(daemon, "menstruation", 90, std::chrono::seconds(60)));
  BOOST_REQUIRE(WaitForRecords(daemon, "athlete", 1, std::chrono::seconds(10)));
  BOOST_TEST(WaitForRecords(daemon, "daily", 90, std::chrono::seconds(1)));

  // A resumed job repeats at most the window in flight at the kill, never
  // the windows already stored.
  std::chrono::sys_days end =
      daemon::UtcDay(std::chrono::system_clock::now()) + std::chrono::days(1);
  size_t windows =
      daemon::SplitIntoWindows(end - std::chrono::days(90), end, 28).size();
  size_t planned = windows * kDateTypes + 1;
  size_t total = rest.fake_.Requests().size();
  BOOST_TEST(total >= planned);
  BOOST_TEST(total <= planned + 2);
  BOOST_TEST(daemon.daemon().Log().find("running: ") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
