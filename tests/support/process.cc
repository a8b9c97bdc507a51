#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>
#include <thread>

#include "tests/support/fixtures.h"

extern char** environ;

namespace terra::testing {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(20);
// A line terra-syncd logs at level info once every listener is up, just
// before it reports ready.
constexpr char kStartedLine[] = "archived deliveries are kept";

// Starts argv with stdout and stderr redirected to files (stderr to
// `err_path`, stdout to `out_path`, which may be the same file).
pid_t SpawnRedirected(const std::vector<std::string>& argv,
                      const std::string& out_path, const std::string& err_path,
                      const std::vector<std::string>& extra_environment = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (err_path == out_path) {
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }

  std::vector<char*> raw;
  for (const std::string& arg : argv) {
    raw.push_back(const_cast<char*>(arg.c_str()));
  }
  raw.push_back(nullptr);

  std::vector<char*> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    environment.push_back(*entry);
  }
  for (const std::string& entry : extra_environment) {
    environment.push_back(const_cast<char*>(entry.c_str()));
  }
  environment.push_back(nullptr);

  pid_t pid = -1;
  int error = posix_spawnp(&pid, raw[0], &actions, nullptr, raw.data(),
                           environment.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    throw std::runtime_error("cannot start " + argv[0]);
  }
  return pid;
}

// Waits for `pid` up to `timeout`. Returns the exit code, -1 for a signal, or
// -2 if it is still running.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return -2;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string ReadIfExists(const std::string& path) {
  try {
    return ReadFile(path);
  } catch (const std::runtime_error&) {
    return {};
  }
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& scratch_dir,
                         std::chrono::seconds timeout) {
  static int counter = 0;
  std::string base = scratch_dir + "/command-" + std::to_string(++counter);
  std::string out_path = base + ".out";
  std::string err_path = base + ".err";

  pid_t pid = SpawnRedirected(argv, out_path, err_path);
  CommandResult result;
  result.exit_code = WaitFor(pid, timeout);
  if (result.exit_code == -2) {
    kill(pid, SIGKILL);
    WaitFor(pid, std::chrono::seconds(10));
    result.exit_code = -1;
  }
  result.out = ReadIfExists(out_path);
  result.err = ReadIfExists(err_path);
  return result;
}

DaemonProcess::DaemonProcess(std::vector<std::string> args, std::string log_path,
                             std::vector<std::string> environment,
                             std::vector<std::string> launcher)
    : args_(std::move(args)),
      log_path_(std::move(log_path)),
      environment_(std::move(environment)),
      launcher_(std::move(launcher)) {}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    Kill();
  }
}

void DaemonProcess::Spawn() {
  std::vector<std::string> argv = launcher_;
  argv.push_back(TERRA_SYNCD_PATH);
  argv.insert(argv.end(), args_.begin(), args_.end());
  // Tests run side by side, so the admin listener takes a free port unless
  // the test chose one.
  bool admin_chosen = false;
  for (const std::string& arg : args_) {
    admin_chosen = admin_chosen || arg.rfind("--admin-listen", 0) == 0;
  }
  bool runs_daemon = true;
  for (const std::string& arg : args_) {
    runs_daemon = runs_daemon && arg != "--help" && arg != "--version";
  }
  if (!admin_chosen && runs_daemon) {
    argv.push_back("--admin-listen");
    argv.push_back("127.0.0.1:0");
  }
  pid_ = SpawnRedirected(argv, log_path_, log_path_, environment_);
}

bool DaemonProcess::Start(std::chrono::seconds timeout) {
  Spawn();
  static const std::regex kListening(
      R"(listening for webhooks on (?:\[[^\]]+\]|[0-9.]+):([0-9]+))");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    // The admin listener starts after the webhook listener, and the
    // retention line comes after both, so once it is logged both ports are.
    std::smatch match;
    std::string log = Log();
    if (std::regex_search(log, match, kListening) &&
        log.find(kStartedLine) != std::string::npos) {
      port_ = static_cast<uint16_t>(std::stoi(match[1].str()));
      static const std::regex kAdmin(
          R"(admin listener \(health, metrics\) on (?:\[[^\]]+\]|[0-9.]+):([0-9]+))");
      std::smatch admin;
      if (std::regex_search(log, admin, kAdmin)) {
        admin_port_ = static_cast<uint16_t>(std::stoi(admin[1].str()));
      }
      return true;
    }
    int code = WaitFor(pid_, std::chrono::milliseconds(0));
    if (code != -2) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

int DaemonProcess::Stop(std::chrono::seconds timeout) {
  if (pid_ <= 0) {
    return -1;
  }
  kill(pid_, SIGTERM);
  int code = WaitFor(pid_, timeout);
  if (code == -2) {
    Kill();
    return -1;
  }
  pid_ = -1;
  return code;
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) {
    return;
  }
  kill(pid_, SIGKILL);
  WaitFor(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

int DaemonProcess::RunToExit(std::chrono::seconds timeout) {
  Spawn();
  int code = WaitFor(pid_, timeout);
  if (code == -2) {
    Kill();
    return -1;
  }
  pid_ = -1;
  return code;
}

std::string DaemonProcess::Log() const { return ReadIfExists(log_path_); }

void DaemonProcess::Signal(int signal_number) {
  if (pid_ > 0) {
    kill(pid_, signal_number);
  }
}

bool DaemonProcess::WaitForLog(const std::string& text, size_t count,
                               std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string log = Log();
    size_t found = 0;
    for (size_t at = log.find(text); at != std::string::npos;
         at = log.find(text, at + 1)) {
      ++found;
    }
    if (found >= count) {
      return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

}  // namespace terra::testing
