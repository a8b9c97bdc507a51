#include "tests/e2e/daemon_fixture.h"

#include <filesystem>
#include <sstream>
#include <boost/test/unit_test.hpp>

#include "tests/support/fixtures.h"
#include "tests/support/signing.h"

namespace terra::testing {

DaemonFixture::DaemonFixture(std::vector<std::string> extra_args)
    : store_path_(dir_.Sub("store")),
      secret_path_(dir_.Sub("signing-secret")),
      secret_("whsec-test-" + std::to_string(NowSeconds())),
      extra_args_(std::move(extra_args)) {
  std::filesystem::create_directory(store_path_);
  WriteFile(secret_path_, secret_ + "\n");
  StartDaemon();
}

DaemonFixture::~DaemonFixture() = default;

void DaemonFixture::StartDaemon() {
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--store",
                                store_path_, "--signing-secret-file",
                                secret_path_};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::string log = dir_.Sub("daemon-" + std::to_string(++starts_) + ".log");
  daemon_ = std::make_unique<DaemonProcess>(args, log);
  if (!daemon_->Start()) {
    BOOST_FAIL("terra-syncd did not start; its log:\n" << daemon_->Log());
  }
}

void DaemonFixture::Restart() {
  int code = daemon_->Stop();
  BOOST_REQUIRE_MESSAGE(code == 0, "terra-syncd exited with " << code
                                       << "; its log:\n" << daemon_->Log());
  StartDaemon();
}

HttpResult DaemonFixture::Send(const std::string& body,
                               const std::string& trace_id,
                               std::optional<int64_t> ordering_ms) {
  return SendWith(SignedHeaders(secret_, body, trace_id, ordering_ms), body);
}

HttpResult DaemonFixture::SendWith(const std::vector<Header>& headers,
                                   const std::string& body) {
  return Post(port(), kWebhookPath, headers, body);
}

std::vector<boost::json::object> DaemonFixture::Dump(
    const std::vector<std::string>& args) {
  std::vector<std::string> argv{TERRA_SYNCCTL_PATH, "dump", "--store",
                                store_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = RunCommand(argv, dir_.path().string());
  BOOST_REQUIRE_MESSAGE(result.exit_code == 0,
                        "terra-syncctl dump failed with " << result.exit_code
                                                          << ": " << result.err);

  std::vector<boost::json::object> objects;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      continue;
    }
    boost::json::value value = boost::json::parse(line);
    BOOST_REQUIRE_MESSAGE(value.is_object(), "dump line is not an object: " << line);
    objects.push_back(value.as_object());
  }
  return objects;
}

std::string DailyBody(const std::string& user_id, const std::string& start_time,
                      int64_t steps) {
  boost::json::object body{
      {"type", "daily"},
      {"version", "2022-03-16"},
      {"user", {{"user_id", user_id}, {"provider", "GARMIN"}, {"active", true}}},
      {"data", boost::json::array{boost::json::object{
                   {"metadata", {{"start_time", start_time},
                                 {"end_time", start_time},
                                 {"upload_type", 0}}},
                   {"distance_data", {{"steps", steps}}}}}}};
  return boost::json::serialize(body);
}

std::string SleepBody(const std::string& user_id, const std::string& summary_id,
                      const std::string& start_time,
                      std::optional<double> score) {
  boost::json::value score_value = nullptr;
  if (score) {
    score_value = *score;
  }
  boost::json::object body{
      {"type", "sleep"},
      {"version", "2022-03-16"},
      {"user", {{"user_id", user_id}, {"provider", "OURA"}, {"active", true}}},
      {"data",
       boost::json::array{boost::json::object{
           {"metadata", {{"summary_id", summary_id},
                         {"start_time", start_time},
                         {"end_time", start_time},
                         {"is_nap", false},
                         {"upload_type", 1}}},
           {"data_enrichment", {{"sleep_score", score_value}}}}}}};
  return boost::json::serialize(body);
}

std::vector<boost::json::object> WithNaturalId(
    const std::vector<boost::json::object>& records,
    const std::string& natural_id) {
  std::vector<boost::json::object> matching;
  for (const auto& record : records) {
    const boost::json::value* id = record.if_contains("natural_id");
    if (id != nullptr && id->is_string() && id->as_string() == natural_id) {
      matching.push_back(record);
    }
  }
  return matching;
}

}  // namespace terra::testing
