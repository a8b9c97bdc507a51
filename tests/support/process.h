// Child processes for tests: running a command to completion, and running the
// real terra-syncd binary on 127.0.0.1 for the length of a test.

#ifndef TERRA_TESTS_SUPPORT_PROCESS_H_
#define TERRA_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace terra::testing {

// Output of a finished command.
struct CommandResult {
  int exit_code = -1;  // -1 if killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is a path) with stdout and stderr captured through
// files in `scratch_dir`, and waits up to `timeout`, after which the command
// is killed. Throws std::runtime_error if it cannot be started.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& scratch_dir,
                         std::chrono::seconds timeout = std::chrono::seconds(60));

// A running terra-syncd. Its stderr goes to a log file, from which Start
// reads the bound port.
class DaemonProcess {
 public:
  // `args` follow the binary name; they should include --listen
  // 127.0.0.1:0 so the daemon picks a free port. The log is written to
  // `log_path`. `environment` entries ("NAME=value") are added to the
  // test's own environment. `launcher`, when not empty, is a command line
  // that runs the daemon (for example systemd-socket-activate and its
  // options).
  DaemonProcess(std::vector<std::string> args, std::string log_path,
                std::vector<std::string> environment = {},
                std::vector<std::string> launcher = {});

  // Kills the daemon with SIGKILL if it is still running.
  ~DaemonProcess();

  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts the daemon and waits up to `timeout` for its "listening for
  // webhooks" log line. Returns false if it exited or timed out first; the
  // log then says why.
  [[nodiscard]] bool Start(std::chrono::seconds timeout = std::chrono::seconds(30));

  // Starts the process without waiting for its log, for launchers such as
  // systemd-socket-activate that start the daemon on the first connection.
  void Launch() { Spawn(); }

  // Sends SIGTERM and waits up to `timeout`. Returns the exit code, or -1 if
  // it had to be killed or ended by a signal.
  int Stop(std::chrono::seconds timeout = std::chrono::seconds(30));

  // Sends SIGKILL and reaps the process.
  void Kill();

  // Runs the daemon to completion (for configurations it must reject) and
  // returns its exit code, or -1 on timeout.
  int RunToExit(std::chrono::seconds timeout = std::chrono::seconds(30));

  // Sends `signal_number` to the daemon.
  void Signal(int signal_number);

  // Waits up to `timeout` for `text` to appear in the log at least `count`
  // times. Returns false on timeout.
  [[nodiscard]] bool WaitForLog(const std::string& text, size_t count = 1,
                                std::chrono::seconds timeout = std::chrono::seconds(20));

  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  pid_t pid() const { return pid_; }
  std::string Log() const;

 private:
  void Spawn();
  int WaitForExit(std::chrono::milliseconds timeout);

  std::vector<std::string> args_;
  std::string log_path_;
  std::vector<std::string> environment_;
  std::vector<std::string> launcher_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
};

}  // namespace terra::testing

#endif  // TERRA_TESTS_SUPPORT_PROCESS_H_
