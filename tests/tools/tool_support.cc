#include "tests/tools/tool_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include "store/delivery_applier.h"
#include "tests/support/fixtures.h"
#include "tests/support/signing.h"

extern char** environ;

namespace terra::testing {
namespace {

constexpr auto kCommitTimeout = std::chrono::seconds(10);
constexpr auto kPollInterval = std::chrono::milliseconds(50);

// Bytes read from a PipedSyncctl at a time.
constexpr size_t kReadChunk = 4096;

// The test's environment with TMPDIR set to `tmp_dir`, as "NAME=value".
std::vector<std::string> EnvironmentWithTmpdir(const std::string& tmp_dir) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!std::string_view(*entry).starts_with("TMPDIR=")) {
      entries.emplace_back(*entry);
    }
  }
  entries.push_back("TMPDIR=" + tmp_dir);
  return entries;
}

// Waits for `pid` up to `timeout`; returns its exit code, -1 after a signal,
// or -2 if it still runs.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return -2;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

CommandResult RunSyncctl(const std::vector<std::string>& args,
                         const TempDir& dir) {
  std::vector<std::string> argv{TERRA_SYNCCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, dir.path().string());
}

std::vector<boost::json::object> ParseNdjson(const std::string& text) {
  std::vector<boost::json::object> objects;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    boost::json::value value = boost::json::parse(line);
    BOOST_REQUIRE_MESSAGE(value.is_object(), "not an object: " << line);
    objects.push_back(value.as_object());
  }
  return objects;
}

std::string JoinMember(const std::vector<boost::json::object>& objects,
                       const std::string& member) {
  std::string joined;
  for (const boost::json::object& object : objects) {
    const boost::json::value* value = object.if_contains(member);
    joined += joined.empty() ? "" : " ";
    joined += value != nullptr && value->is_string()
                  ? std::string(value->get_string())
                  : (value != nullptr ? boost::json::serialize(*value) : "-");
  }
  return joined;
}

AppliedStore::AppliedStore(std::string path) : path_(std::move(path)) {
  std::filesystem::create_directories(path_);
  store::StoreOptions options;
  options.path = path_;
  store::Status status = store::Store::Open(options, &store_);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
  committer_ = std::make_unique<store::Committer>(store_.get(),
                                                  store::CommitterOptions());
}

AppliedStore::~AppliedStore() { Close(); }

void AppliedStore::Apply(const std::string& body, const std::string& trace_id,
                         int64_t received_ms,
                         const std::string& terra_reference) {
  store::Delivery delivery;
  delivery.received_ms = received_ms;
  delivery.trace_id = trace_id;
  delivery.terra_reference = terra_reference;
  delivery.ordering_header_ms = received_ms;
  delivery.signed_at_s = received_ms / 1000;
  delivery.ordering_ms = received_ms;
  delivery.body = body;
  store::AppliedDelivery applied;
  store::DeliveryApplier applier(store_.get(), store::ApplierOptions());
  BOOST_REQUIRE(applier.Apply(std::move(delivery), &applied).ok());

  std::promise<store::CommitResult> done;
  std::future<store::CommitResult> result = done.get_future();
  committer_->Submit(
      std::move(applied.request),
      [&done](const store::CommitResult& r) { done.set_value(r); });
  BOOST_REQUIRE(result.wait_for(kCommitTimeout) == std::future_status::ready);
  BOOST_REQUIRE(result.get().outcome ==
                store::CommitResult::Outcome::kCommitted);
}

void AppliedStore::Close() {
  if (committer_ != nullptr) {
    committer_->Stop();
    committer_.reset();
  }
  store_.reset();
}

RunningDaemon::RunningDaemon(const TempDir& dir, std::string store_path,
                             std::vector<std::string> extra_args)
    : secret_("whsec-tools-" + std::to_string(NowSeconds())),
      secret_path_(dir.Sub("daemon-secret")) {
  std::filesystem::create_directories(store_path);
  WriteFile(secret_path_, secret_ + "\n");
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--store",
                                store_path, "--signing-secret-file",
                                secret_path_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<DaemonProcess>(std::move(args),
                                             dir.Sub("daemon.log"));
  if (!process_->Start()) {
    BOOST_FAIL("terra-syncd did not start; its log:\n" << process_->Log());
  }
}

RunningDaemon::~RunningDaemon() = default;

HttpResult RunningDaemon::Send(const std::string& body,
                               const std::string& trace_id) {
  return Post(port(), "/webhooks/terra", SignedHeaders(secret_, body, trace_id),
              body);
}

std::string RunningDaemon::url() const {
  return "http://127.0.0.1:" + std::to_string(port()) + "/webhooks/terra";
}

void RunningDaemon::Stop() {
  int code = process_->Stop();
  BOOST_REQUIRE_MESSAGE(code == 0, "terra-syncd exited with " << code);
}

BackgroundSyncctl::BackgroundSyncctl(const std::vector<std::string>& args,
                                     std::string out_path)
    : out_path_(std::move(out_path)) {
  std::vector<std::string> argv{TERRA_SYNCCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (std::string& arg : argv) raw.push_back(arg.data());
  raw.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int error =
      posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  BOOST_REQUIRE_MESSAGE(error == 0, "cannot start terra-syncctl");
}

BackgroundSyncctl::~BackgroundSyncctl() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(10));
  }
}

std::string BackgroundSyncctl::Output() const {
  try {
    return ReadFile(out_path_);
  } catch (const std::runtime_error&) {
    return {};
  }
}

bool BackgroundSyncctl::WaitForOutput(const std::string& text,
                                      std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Output().find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

int BackgroundSyncctl::Interrupt() {
  kill(pid_, SIGINT);
  int code = WaitFor(pid_, std::chrono::seconds(10));
  if (code == -2) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(10));
    code = -1;
  }
  pid_ = -1;
  return code;
}

PipedSyncctl::PipedSyncctl(const std::vector<std::string>& args,
                           const std::string& tmp_dir, std::string err_path)
    : err_path_(std::move(err_path)) {
  std::vector<std::string> argv{TERRA_SYNCCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw_argv;
  for (std::string& arg : argv) raw_argv.push_back(arg.data());
  raw_argv.push_back(nullptr);
  std::vector<std::string> environment = EnvironmentWithTmpdir(tmp_dir);
  std::vector<char*> raw_environment;
  for (std::string& entry : environment) raw_environment.push_back(entry.data());
  raw_environment.push_back(nullptr);

  // Both ends close on exec, so the child keeps only the write end that dup2
  // makes its standard output, and the test has the only read end.
  int fds[2];
  BOOST_REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int error = posix_spawn(&pid_, raw_argv[0], &actions, nullptr,
                          raw_argv.data(), raw_environment.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  read_fd_ = fds[0];
  BOOST_REQUIRE_MESSAGE(error == 0, "cannot start terra-syncctl");
}

PipedSyncctl::~PipedSyncctl() {
  CloseOutput();
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(10));
  }
}

std::string PipedSyncctl::ReadLine(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (read_.find('\n') == std::string::npos && read_fd_ >= 0 &&
         std::chrono::steady_clock::now() < deadline) {
    pollfd readable{read_fd_, POLLIN, 0};
    if (poll(&readable, 1, kPollInterval.count()) != 1) {
      continue;
    }
    char chunk[kReadChunk];
    ssize_t count = read(read_fd_, chunk, sizeof(chunk));
    if (count <= 0) {
      break;
    }
    read_.append(chunk, static_cast<size_t>(count));
  }
  size_t end = read_.find('\n');
  return end == std::string::npos ? std::string() : read_.substr(0, end);
}

bool PipedSyncctl::Drain(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (read_fd_ >= 0 && std::chrono::steady_clock::now() < deadline) {
    pollfd readable{read_fd_, POLLIN, 0};
    if (poll(&readable, 1, kPollInterval.count()) != 1) {
      continue;
    }
    char chunk[kReadChunk];
    if (read(read_fd_, chunk, sizeof(chunk)) <= 0) {
      return true;
    }
  }
  return false;
}

void PipedSyncctl::CloseOutput() {
  if (read_fd_ >= 0) {
    close(read_fd_);
    read_fd_ = -1;
  }
}

void PipedSyncctl::Signal(int signal_number) {
  BOOST_REQUIRE(pid_ > 0);
  kill(pid_, signal_number);
}

int PipedSyncctl::Wait(std::chrono::seconds timeout) {
  BOOST_REQUIRE(pid_ > 0);
  int code = WaitFor(pid_, timeout);
  if (code != -2) {
    pid_ = -1;
  }
  return code;
}

std::string PipedSyncctl::Errors() const {
  try {
    return ReadFile(err_path_);
  } catch (const std::runtime_error&) {
    return {};
  }
}

}  // namespace terra::testing
