// A real terra-syncd on 127.0.0.1 over a fresh store in a temporary
// directory, with helpers to send signed deliveries and to read the store
// back through `terra-syncctl dump`.

#ifndef TERRA_TESTS_E2E_DAEMON_FIXTURE_H_
#define TERRA_TESTS_E2E_DAEMON_FIXTURE_H_

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace terra::testing {

inline constexpr char kWebhookPath[] = "/webhooks/terra";
inline constexpr char kUserA[] = "40f7b0e1-89e2-43ac-a5b8-1e29c8d47cad";

class DaemonFixture {
 public:
  // Writes a signing secret and starts the daemon with `extra_args` after
  // the defaults (listen on a free port, the store, the secret file).
  explicit DaemonFixture(std::vector<std::string> extra_args = {});
  ~DaemonFixture();

  // Sends `body` signed with the fixture's secret.
  HttpResult Send(const std::string& body, const std::string& trace_id,
                  std::optional<int64_t> ordering_ms = {});

  // Sends `body` with exactly `headers`.
  HttpResult SendWith(const std::vector<Header>& headers,
                      const std::string& body);

  // Runs `terra-syncctl dump --store <store> <args...>` and parses each
  // NDJSON line. Fails the current test if the command fails.
  std::vector<boost::json::object> Dump(const std::vector<std::string>& args);

  // Stops the daemon with SIGTERM (expecting exit code 0) and starts a new
  // one over the same store.
  void Restart();

  uint16_t port() const { return daemon_->port(); }
  DaemonProcess& daemon() { return *daemon_; }
  const std::string& secret() const { return secret_; }
  const std::string& store_path() const { return store_path_; }
  const TempDir& dir() const { return dir_; }

 private:
  void StartDaemon();

  TempDir dir_;
  std::string store_path_;
  std::string secret_path_;
  std::string secret_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<DaemonProcess> daemon_;
  int starts_ = 0;
};

// A `daily` event for `user_id` with one item for `start_time` and `steps`.
std::string DailyBody(const std::string& user_id, const std::string& start_time,
                      int64_t steps);

// A `sleep` event for `user_id` with one session; `score` is the
// data_enrichment.sleep_score (null when not given).
std::string SleepBody(const std::string& user_id, const std::string& summary_id,
                      const std::string& start_time,
                      std::optional<double> score);

// Returns the records of `records` whose natural_id is `natural_id`.
std::vector<boost::json::object> WithNaturalId(
    const std::vector<boost::json::object>& records,
    const std::string& natural_id);

}  // namespace terra::testing

#endif  // TERRA_TESTS_E2E_DAEMON_FIXTURE_H_
