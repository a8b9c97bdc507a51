#include "tests/e2e/rest_fixture.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "daemon/date_windows.h"
#include "tests/support/fixtures.h"

namespace terra::testing {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(100);

}  // namespace

TerraFixture::TerraFixture(const std::string& subject_alt_name)
    : ca_(dir_.path().string()),
      certificate_(ca_.Issue("server", subject_alt_name)),
      fake_(certificate_.cert_file, certificate_.key_file) {
  WriteFile(dir_.Sub("dev-id"), std::string(kRestDevId) + "\n");
  WriteFile(dir_.Sub("api-key"), std::string(kRestApiKey) + "\n");
}

std::vector<std::string> TerraFixture::Args(
    const std::vector<std::string>& extra) const {
  const std::vector<std::pair<std::string, std::string>> defaults{
      {"--terra-base-url", fake_.base_url()},
      {"--terra-ca-file", ca_.ca_file()},
      {"--terra-dev-id-file", dir_.Sub("dev-id")},
      {"--terra-api-key-file", dir_.Sub("api-key")},
      {"--test-clock-file", dir_.Sub("clock")},
      {"--admin-socket", admin_socket()},
      {"--admin-listen", "127.0.0.1:0"},
      {"--reconcile-at", "03:30"},
      {"--reconcile-time-zone", "UTC"},
      {"--reconcile-jitter", "0"},
      {"--silence-connection-after", "0"},
      {"--silence-terra-after", "0"},
      {"--backfill-days", "1"}};

  // An option in `extra` replaces its default, since each may appear once.
  std::vector<std::string> args;
  for (const auto& [name, value] : defaults) {
    if (std::find(extra.begin(), extra.end(), name) == extra.end()) {
      args.push_back(name);
      args.push_back(value);
    }
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void TerraFixture::SetClock(const std::string& utc) {
  std::chrono::sys_days day;
  BOOST_REQUIRE_MESSAGE(daemon::ParseDate(utc.substr(0, 10), &day), utc);
  int hour = std::stoi(utc.substr(11, 2));
  int minute = std::stoi(utc.substr(14, 2));
  auto time = day + std::chrono::hours(hour) + std::chrono::minutes(minute);
  int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch())
          .count();
  // Written aside and renamed, so the daemon never reads half a file.
  WriteFile(dir_.Sub("clock.next"), std::to_string(seconds) + "\n");
  std::filesystem::rename(dir_.Sub("clock.next"), dir_.Sub("clock"));
}

bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return condition();
}

std::vector<std::string> Windows(const FakeTerra& fake,
                                 const std::string& type) {
  std::vector<std::string> windows;
  for (const RecordedRequest& request : fake.RequestsFor(type)) {
    windows.push_back(request.Query("user_id") + " " +
                      request.Query("start_date") + ".." +
                      request.Query("end_date"));
  }
  return windows;
}

void SendLifecycle(DaemonFixture& daemon, const std::string& type,
                   const std::string& user_id, const std::string& trace_id) {
  boost::json::object body{{"type", type},
                           {"user", boost::json::object{{"user_id", user_id}}}};
  BOOST_REQUIRE(daemon.Send(boost::json::serialize(body), trace_id).status ==
                200u);
}

std::map<std::string, std::string> ConnectionStates(DaemonFixture& daemon) {
  std::map<std::string, std::string> states;
  for (const boost::json::object& connection :
       daemon.Dump({"connections", "--format", "ndjson"})) {
    states[std::string(connection.at("connection_id").as_string())] =
        std::string(connection.at("state").as_string());
  }
  return states;
}

int CountJobs(DaemonFixture& daemon, const std::string& kind,
              const std::string& state) {
  int count = 0;
  for (const boost::json::object& job :
       daemon.Dump({"jobs", "--format", "ndjson"})) {
    const boost::json::value* job_kind = job.if_contains("kind");
    const boost::json::value* job_state = job.if_contains("state");
    if (job_kind != nullptr && job_state != nullptr &&
        job_kind->as_string() == kind && job_state->as_string() == state) {
      ++count;
    }
  }
  return count;
}

CommandResult RunSyncctl(const TempDir& dir,
                         const std::vector<std::string>& args) {
  std::vector<std::string> argv{TERRA_SYNCCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, dir.path().string(), std::chrono::seconds(120));
}

}  // namespace terra::testing
