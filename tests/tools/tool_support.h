// Helpers of the terra-syncctl tests: running the built binary, a store
// populated through DeliveryApplier and a Committer, a terra-syncd on
// 127.0.0.1, and a command left running in the background (dump --follow).

#ifndef TERRA_TESTS_TOOLS_TOOL_SUPPORT_H_
#define TERRA_TESTS_TOOLS_TOOL_SUPPORT_H_

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/committer.h"
#include "store/store.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace terra::testing {

// Runs terra-syncctl with `args`, output captured through files in `dir`,
// killed after 60 seconds.
CommandResult RunSyncctl(const std::vector<std::string>& args,
                         const TempDir& dir);

// Parses NDJSON into objects; a line that is not an object fails the test.
std::vector<boost::json::object> ParseNdjson(const std::string& text);

// Returns the `member` string of each object, joined by spaces.
std::string JoinMember(const std::vector<boost::json::object>& objects,
                       const std::string& member);

// A store in `path`, open as a primary, filled one delivery at a time.
class AppliedStore {
 public:
  // Creates the directory and the store.
  explicit AppliedStore(std::string path);
  ~AppliedStore();

  // Applies and commits `body`, received at `received_ms` with the ordering
  // timestamp `received_ms`. Fails the test unless it is committed.
  void Apply(const std::string& body, const std::string& trace_id,
             int64_t received_ms, const std::string& terra_reference = "");

  // Releases the store, so that another process may open it as a primary.
  void Close();

  const std::string& path() const { return path_; }
  store::Store& store() { return *store_; }

 private:
  std::string path_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Committer> committer_;
};

// A terra-syncd over `store_path` on a free port of 127.0.0.1, with a secret
// file in `dir`. `extra_args` are added to its command line.
class RunningDaemon {
 public:
  RunningDaemon(const TempDir& dir, std::string store_path,
                std::vector<std::string> extra_args = {});
  ~RunningDaemon();

  // POSTs `body` signed with the daemon's secret.
  HttpResult Send(const std::string& body, const std::string& trace_id);

  // Returns http://127.0.0.1:PORT/webhooks/terra.
  std::string url() const;
  const std::string& secret_path() const { return secret_path_; }
  uint16_t port() const { return process_->port(); }

  // Stops the daemon with SIGTERM and expects exit code 0.
  void Stop();

  // Waits up to `timeout` for `text` to appear in the daemon's log.
  [[nodiscard]] bool WaitForLog(const std::string& text,
                                std::chrono::seconds timeout) {
    return process_->WaitForLog(text, 1, timeout);
  }

 private:
  std::string secret_;
  std::string secret_path_;
  std::unique_ptr<DaemonProcess> process_;
};

// A terra-syncctl left running with its stdout in a file, for --follow.
class BackgroundSyncctl {
 public:
  BackgroundSyncctl(const std::vector<std::string>& args, std::string out_path);
  // Kills the process with SIGKILL if it still runs.
  ~BackgroundSyncctl();

  // Returns what it printed so far.
  std::string Output() const;

  // Waits up to `timeout` for Output() to contain `text`.
  [[nodiscard]] bool WaitForOutput(const std::string& text,
                                   std::chrono::seconds timeout);

  // Sends SIGINT and waits up to 10 seconds. Returns the exit code, or -1
  // if it was killed.
  int Interrupt();

 private:
  std::string out_path_;
  pid_t pid_ = -1;
};

// A terra-syncctl whose standard output is a pipe that the test reads and may
// close, with TMPDIR set to `tmp_dir` so that its scratch directory is made
// there. Its standard error goes to `err_path`.
class PipedSyncctl {
 public:
  PipedSyncctl(const std::vector<std::string>& args, const std::string& tmp_dir,
               std::string err_path);
  // Closes the read end, and kills the process with SIGKILL if it still runs.
  ~PipedSyncctl();
  PipedSyncctl(const PipedSyncctl&) = delete;
  PipedSyncctl& operator=(const PipedSyncctl&) = delete;

  // Reads until the output has a whole line or `timeout` passes. Returns the
  // first line without its newline, or an empty string on timeout.
  std::string ReadLine(std::chrono::seconds timeout);

  // Reads and discards the output until end of file or `timeout`. Returns
  // true at end of file.
  [[nodiscard]] bool Drain(std::chrono::seconds timeout);

  // Closes the test's read end, so that the process has no reader left.
  void CloseOutput();

  // Sends `signal_number` to the process.
  void Signal(int signal_number);

  // Waits up to `timeout`. Returns the exit code, -1 if a signal ended the
  // process, or -2 if it still runs.
  int Wait(std::chrono::seconds timeout);

  // Returns what the process wrote to standard error so far.
  std::string Errors() const;

 private:
  int read_fd_ = -1;
  pid_t pid_ = -1;
  std::string err_path_;
  std::string read_;
};

// Day used by the tests: 2026-07-01T00:00:00Z in unix ms.
inline constexpr int64_t kJuly1Ms = 1'782'864'000'000;
inline constexpr int64_t kDayMs = 86'400'000;

}  // namespace terra::testing

#endif  // TERRA_TESTS_TOOLS_TOOL_SUPPORT_H_
