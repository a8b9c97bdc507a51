#include "tests/reliability/store_harness.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <sstream>

#include "tests/support/fixtures.h"
#include "tests/support/signing.h"

namespace terra::testing {

StoreHarness::StoreHarness(std::string store_path)
    : store_path_(store_path.empty() ? dir_.Sub("store")
                                     : std::move(store_path)),
      secret_path_(dir_.Sub("signing-secret")),
      secret_("whsec-reliability-" + std::to_string(NowSeconds())) {
  std::filesystem::create_directories(store_path_);
  WriteFile(secret_path_, secret_ + "\n");
}

std::unique_ptr<DaemonProcess> StoreHarness::StartDaemon(
    const std::vector<std::string>& extra_args) {
  std::vector<std::string> args{
      "--listen",  "127.0.0.1:0",           "--store",
      store_path_, "--signing-secret-file", secret_path_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::string log = dir_.Sub("daemon-" + std::to_string(++starts_) + ".log");
  auto daemon = std::make_unique<DaemonProcess>(args, log);
  if (!daemon->Start()) {
    BOOST_ERROR("terra-syncd did not start; its log:\n" << daemon->Log());
    return nullptr;
  }
  return daemon;
}

std::vector<boost::json::object> StoreHarness::Dump(
    const std::vector<std::string>& args) {
  std::vector<std::string> argv{TERRA_SYNCCTL_PATH, "dump", "--store",
                                store_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--format", "ndjson"});
  CommandResult result = RunCommand(argv, dir_.path().string());
  BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "terra-syncctl dump failed with "
                                                   << result.exit_code << ": "
                                                   << result.err);

  std::vector<boost::json::object> objects;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    boost::json::value value = boost::json::parse(line);
    BOOST_REQUIRE_MESSAGE(value.is_object(), "dump line is not an object");
    objects.push_back(value.as_object());
  }
  return objects;
}

std::string SleepDelivery(const std::string& trace_id, int score,
                          size_t padding) {
  boost::json::array sessions;
  for (int i = 0; i < kSessionsPerDelivery; ++i) {
    sessions.push_back(boost::json::object{
        {"metadata",
         {{"summary_id", trace_id + "/" + std::to_string(i)},
          {"start_time", "2026-03-01T22:00:00+00:00"},
          {"end_time", "2026-03-02T06:00:00+00:00"},
          {"is_nap", false},
          {"upload_type", 1}}},
        {"data_enrichment", {{"sleep_score", score}}},
        {"padding", std::string(padding, 'p')}});
  }
  boost::json::object body{
      {"type", "sleep"},
      {"version", "2022-03-16"},
      {"user",
       {{"user_id", kHarnessUser}, {"provider", "OURA"}, {"active", true}}},
      {"data", std::move(sessions)}};
  return boost::json::serialize(body);
}

}  // namespace terra::testing
