// A store directory, a signing secret and the real terra-syncd over them,
// for tests that kill the daemon or starve its file system and then check
// what the store kept through `terra-syncctl dump`.

#ifndef TERRA_TESTS_RELIABILITY_STORE_HARNESS_H_
#define TERRA_TESTS_RELIABILITY_STORE_HARNESS_H_

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace terra::testing {

inline constexpr char kHarnessUser[] = "5d1c2b3a-7e6f-4a8b-9c0d-1e2f3a4b5c6d";

// Sessions in every delivery that SleepDelivery builds, so that a delivery
// spans several records and a half-applied one is visible.
inline constexpr int kSessionsPerDelivery = 3;

class StoreHarness {
 public:
  // Creates `store_path` (a directory under the harness's temporary
  // directory when empty) and a 0600 secret file.
  explicit StoreHarness(std::string store_path = {});

  // Starts terra-syncd over the store with `extra_args` after the defaults
  // (a free port on 127.0.0.1, the store, the secret). Returns null, after
  // failing the current test with the daemon's log, if it does not start.
  std::unique_ptr<DaemonProcess> StartDaemon(
      const std::vector<std::string>& extra_args = {});

  // Runs `terra-syncctl dump --store <store> <args...> --format ndjson` and
  // parses each line. Fails the current test if the command fails.
  std::vector<boost::json::object> Dump(const std::vector<std::string>& args);

  const std::string& store_path() const { return store_path_; }
  const std::string& secret() const { return secret_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string store_path_;
  std::string secret_path_;
  std::string secret_;
  int starts_ = 0;
};

// A `sleep` delivery for kHarnessUser with kSessionsPerDelivery sessions
// whose summary ids are "<trace_id>/<n>" and whose sleep_score is `score`.
// `padding` bytes of filler in each session make the body larger.
std::string SleepDelivery(const std::string& trace_id, int score,
                          size_t padding = 0);

}  // namespace terra::testing

#endif  // TERRA_TESTS_RELIABILITY_STORE_HARNESS_H_
