// terra-syncd under the systemd protocols, without systemd itself: a
// datagram socket replaces NOTIFY_SOCKET, systemd-socket-activate passes
// listening sockets, and signals arrive as systemctl would send them.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <thread>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fixtures.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

// A datagram socket that receives sd_notify messages.
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    BOOST_REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address),
                       sizeof(address)) == 0);
  }
  ~NotifyListener() { close(fd_); }

  // Collects messages until one contains `text` or `timeout` passes.
  // Returns true if it arrived.
  bool WaitFor(const std::string& text, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Seen(text)) {
        return true;
      }
      Receive(std::chrono::milliseconds(50));
    }
    return Seen(text);
  }

  // Receives and discards every message already waiting, so that a count
  // that follows covers only what is sent from now on.
  void Drain() {
    while (true) {
      pollfd ready{fd_, POLLIN, 0};
      if (poll(&ready, 1, 0) <= 0) {
        return;
      }
      char buffer[4096];
      recv(fd_, buffer, sizeof(buffer), 0);
    }
  }

  // Collects messages for `duration`; returns how many contain `text`.
  size_t CountFor(const std::string& text, std::chrono::milliseconds duration) {
    size_t before = messages_.size();
    auto deadline = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < deadline) {
      Receive(std::chrono::milliseconds(50));
    }
    size_t count = 0;
    for (size_t i = before; i < messages_.size(); ++i) {
      count += messages_[i].find(text) != std::string::npos;
    }
    return count;
  }

  bool Seen(const std::string& text) const {
    for (const std::string& message : messages_) {
      if (message.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  // Finds `prefix` followed by a port number in a message received so far.
  bool FindPort(const std::string& prefix, uint16_t* port) const {
    for (const std::string& message : messages_) {
      size_t at = message.find(prefix);
      if (at != std::string::npos) {
        *port = static_cast<uint16_t>(std::stoi(message.substr(at + prefix.size())));
        return true;
      }
    }
    return false;
  }

  const std::string& path() const { return path_; }

 private:
  void Receive(std::chrono::milliseconds wait) {
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(wait.count())) <= 0) {
      return;
    }
    char buffer[4096];
    ssize_t size = recv(fd_, buffer, sizeof(buffer), 0);
    if (size > 0) {
      messages_.emplace_back(buffer, static_cast<size_t>(size));
    }
  }

  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

// Returns a port on 127.0.0.1 that was free a moment ago.
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Sends GET `path` over the Unix socket at `socket_path` and returns the
// raw response, or an empty string if the connection fails.
std::string UnixGet(const std::string& socket_path, const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s",
                socket_path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return {};
  }
  std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    return {};
  }
  std::string response;
  char buffer[4096];
  for (int reads = 0; reads < 100; ++reads) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 5000) <= 0) {
      break;
    }
    ssize_t size = read(fd, buffer, sizeof(buffer));
    if (size <= 0) {
      break;
    }
    response.append(buffer, static_cast<size_t>(size));
  }
  close(fd);
  return response;
}

bool HaveCommand(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// A store, a secret and a config file in a temporary directory.
struct ServiceFiles {
  ServiceFiles() {
    std::filesystem::create_directory(dir.Sub("store"));
    WriteFile(dir.Sub("secret-a"), "secret-a\n");
    WriteFile(dir.Sub("secret-b"), "secret-b\n");
    WriteConfig("secret-a", "info");
  }

  void WriteConfig(const std::string& secret, const std::string& log_level) {
    WriteFile(dir.Sub("terra-syncd.conf"),
              "store = " + dir.Sub("store") + "\n" +
                  "signing-secret-file = " + dir.Sub(secret) + "\n" +
                  "listen = 127.0.0.1:0\n" + "log-level = " + log_level + "\n");
  }

  TempDir dir;
};

HttpResult SendSigned(uint16_t port, const std::string& secret,
                      const std::string& trace_id, const std::string& day) {
  std::string body = DailyBody(kUserA, day + "T00:00:00+00:00", 1);
  return Post(port, kWebhookPath, SignedHeaders(secret, body, trace_id), body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(systemd_integration)

BOOST_AUTO_TEST_CASE(notify_ready_status_watchdog_stopping) {
  ServiceFiles files;
  NotifyListener notify(files.dir.Sub("notify.sock"));
  DaemonProcess daemon({"--config", files.dir.Sub("terra-syncd.conf")},
                       files.dir.Sub("daemon.log"),
                       {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=400000"});
  BOOST_REQUIRE_MESSAGE(daemon.Start(), daemon.Log());

  BOOST_TEST(notify.WaitFor("READY=1", std::chrono::seconds(5)));
  BOOST_TEST(notify.Seen("STATUS="));
  BOOST_TEST(notify.CountFor("WATCHDOG=1", std::chrono::milliseconds(1200)) >= 3u);
  BOOST_TEST(notify.WaitFor("deliveries in the last minute",
                            std::chrono::seconds(15)));

  BOOST_TEST(daemon.Stop() == 0);
  BOOST_TEST(notify.WaitFor("STOPPING=1", std::chrono::seconds(2)));
}

BOOST_AUTO_TEST_CASE(watchdog_withheld_while_committer_stalls) {
  ServiceFiles files;
  NotifyListener notify(files.dir.Sub("notify.sock"));
  DaemonProcess daemon({"--config", files.dir.Sub("terra-syncd.conf"),
                        "--test-commit-delay", "4s"},
                       files.dir.Sub("daemon.log"),
                       {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=400000"});
  BOOST_REQUIRE_MESSAGE(daemon.Start(), daemon.Log());
  BOOST_REQUIRE(notify.WaitFor("WATCHDOG=1", std::chrono::seconds(5)));

  // A delivery now waits 4 s in the committer; after the watchdog's
  // patience (two ping intervals) the pings must stop until it completes.
  std::thread sender([&] { SendSigned(daemon.port(), "secret-a", "slow", "2026-06-01"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  notify.Drain();
  size_t pings_while_stalled =
      notify.CountFor("WATCHDOG=1", std::chrono::milliseconds(2000));
  sender.join();
  size_t pings_after = notify.CountFor("WATCHDOG=1", std::chrono::milliseconds(1200));

  BOOST_TEST(pings_while_stalled == 0u);
  BOOST_TEST(pings_after >= 2u);
  BOOST_TEST(daemon.Log().find("withholding the watchdog ping") != std::string::npos);
  BOOST_TEST(daemon.Stop() == 0);
}

BOOST_AUTO_TEST_CASE(socket_activation_serves_passed_socket) {
  if (!HaveCommand("systemd-socket-activate")) {
    BOOST_TEST_MESSAGE("systemd-socket-activate not found; skipping");
    return;
  }
  ServiceFiles files;
  uint16_t port = FreePort();
  std::string admin_socket = files.dir.Sub("admin.sock");
  // Two sockets without names, as one socket unit with a TCP and a Unix
  // ListenStream= passes them: the daemon distinguishes them by address family.
  DaemonProcess daemon(
      {"--config", files.dir.Sub("terra-syncd.conf")}, files.dir.Sub("daemon.log"), {},
      {"systemd-socket-activate", "-l", "127.0.0.1:" + std::to_string(port), "-l",
       admin_socket});
  daemon.Launch();
  BOOST_REQUIRE(daemon.WaitForLog("Listening on " + admin_socket));

  // The first connection starts terra-syncd, which serves it on the socket
  // it was passed; the configured 127.0.0.1:0 is never bound.
  HttpResult first = SendSigned(port, "secret-a", "activated", "2026-06-02");
  BOOST_TEST(first.status == 200u);
  BOOST_TEST(daemon.WaitForLog("(socket from systemd)"));
  BOOST_TEST(daemon.Log().find("listening for webhooks on 127.0.0.1:" +
                               std::to_string(port)) != std::string::npos);
  BOOST_TEST(UnixGet(admin_socket, "/healthz").find("200 OK") != std::string::npos);
  BOOST_TEST(daemon.Stop() == 0);
}

BOOST_AUTO_TEST_CASE(sighup_rotates_secret) {
  ServiceFiles files;
  NotifyListener notify(files.dir.Sub("notify.sock"));
  DaemonProcess daemon({"--config", files.dir.Sub("terra-syncd.conf")},
                       files.dir.Sub("daemon.log"), {"NOTIFY_SOCKET=" + notify.path()});
  BOOST_REQUIRE_MESSAGE(daemon.Start(), daemon.Log());
  HttpConnection kept_open(daemon.port());  // must survive the reload
  BOOST_TEST(SendSigned(daemon.port(), "secret-a", "before", "2026-06-03").status == 200u);

  files.WriteConfig("secret-b", "debug");
  daemon.Signal(SIGHUP);
  BOOST_REQUIRE(daemon.WaitForLog("configuration reloaded"));

  BOOST_TEST(notify.WaitFor("RELOADING=1", std::chrono::seconds(2)));
  BOOST_TEST(SendSigned(daemon.port(), "secret-a", "old", "2026-06-04").status == 401u);
  BOOST_TEST(SendSigned(daemon.port(), "secret-b", "new", "2026-06-05").status == 200u);
  std::string body = DailyBody(kUserA, "2026-06-06T00:00:00+00:00", 1);
  HttpResult on_kept = kept_open.Request("POST", kWebhookPath,
                                         SignedHeaders("secret-b", body, "kept"), body);
  BOOST_TEST(on_kept.status == 200u);
  BOOST_TEST(daemon.Stop() == 0);
}

BOOST_AUTO_TEST_CASE(invalid_reload_keeps_running_configuration) {
  ServiceFiles files;
  DaemonProcess daemon({"--config", files.dir.Sub("terra-syncd.conf")},
                       files.dir.Sub("daemon.log"));
  BOOST_REQUIRE_MESSAGE(daemon.Start(), daemon.Log());

  WriteFile(files.dir.Sub("terra-syncd.conf"), "max-body-size = plenty\n");
  daemon.Signal(SIGHUP);
  BOOST_REQUIRE(daemon.WaitForLog("configuration reload rejected"));

  BOOST_TEST(SendSigned(daemon.port(), "secret-a", "still", "2026-06-07").status == 200u);
  BOOST_TEST(daemon.Stop() == 0);
}

BOOST_AUTO_TEST_CASE(sigterm_answers_request_in_flight) {
  ServiceFiles files;
  DaemonProcess daemon({"--config", files.dir.Sub("terra-syncd.conf"),
                        "--test-commit-delay", "1s"},
                       files.dir.Sub("daemon.log"));
  BOOST_REQUIRE_MESSAGE(daemon.Start(), daemon.Log());

  HttpResult result;
  std::thread sender([&] {
    result = SendSigned(daemon.port(), "secret-a", "in-flight", "2026-06-08");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  daemon.Signal(SIGTERM);
  sender.join();

  BOOST_TEST(result.status == 200u);
  BOOST_TEST(daemon.Stop() == 0);
}

BOOST_AUTO_TEST_CASE(health_and_metrics) {
  DaemonFixture daemon;
  BOOST_REQUIRE(daemon.daemon().admin_port() != 0);
  BOOST_TEST(daemon.Send(ReadFixture("auth_success.json"), "m0").status == 200u);
  BOOST_TEST(daemon.Send(ReadFixture("daily.json"), "m1").status == 200u);
  BOOST_TEST(daemon.Send(ReadFixture("daily.json"), "m1").status == 200u);
  BOOST_TEST(daemon.SendWith({{"terra-signature", "garbage"}}, "{}").status == 401u);

  HttpResult health = Get(daemon.daemon().admin_port(), "/healthz");
  HttpResult metrics = Get(daemon.daemon().admin_port(), "/metrics");
  HttpResult control = Post(daemon.daemon().admin_port(), "/metrics", {}, "");

  BOOST_TEST(health.status == 200u);
  BOOST_TEST(health.body == "ok\n");
  BOOST_TEST(metrics.status == 200u);
  for (const char* line :
       {"terra_deliveries_total{outcome=\"stored\",event_type=\"daily\"} 1\n",
        "terra_duplicate_deliveries_total 1\n",
        "terra_signature_failures_total{reason=\"malformed\"} 1\n",
        "terra_records_written_total 1\n", "# TYPE terra_commit_latency_seconds histogram\n",
        "terra_commit_batch_requests_count ", "terra_store_size_bytes ",
        "terra_jobs{state=", "terra_open_connections "}) {
    BOOST_TEST(metrics.body.find(line) != std::string::npos, "missing: " << line);
  }
  BOOST_TEST(control.status == 405u);
}

BOOST_AUTO_TEST_CASE(health_fails_while_committer_stalls) {
  DaemonFixture daemon({"--test-commit-delay", "8s"});
  std::thread sender([&] {
    daemon.Send(DailyBody(kUserA, "2026-06-09T00:00:00+00:00", 1), "stall");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  HttpResult health = Get(daemon.daemon().admin_port(), "/healthz");
  sender.join();

  BOOST_TEST(health.status == 503u);
  BOOST_TEST(health.body.find("committer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(journal_entries_carry_fields) {
  if (geteuid() != 0 || !HaveCommand("unshare")) {
    BOOST_TEST_MESSAGE("needs root and unshare to give the daemon a private "
                       "journal socket; skipping");
    return;
  }
  ServiceFiles files;
  // The daemon runs in a private mount namespace whose
  // /run/systemd/journal/socket is this test's datagram socket, so its
  // journal entries arrive here whether or not a real journald runs.
  NotifyListener journal(files.dir.Sub("journal.sock"));
  std::string log_path = files.dir.Sub("daemon.log");
  WriteFile(log_path, "");
  struct stat log_info {};
  BOOST_REQUIRE(stat(log_path.c_str(), &log_info) == 0);
  std::string journal_stream = "JOURNAL_STREAM=" + std::to_string(log_info.st_dev) +
                               ":" + std::to_string(log_info.st_ino);
  std::string setup =
      "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
      "touch /run/systemd/journal/socket && "
      "mount --bind \"$0\" /run/systemd/journal/socket && exec \"$@\"";
  DaemonProcess daemon({"--config", files.dir.Sub("terra-syncd.conf")}, log_path,
                       {journal_stream},
                       {"unshare", "--mount", "--propagation", "private", "sh",
                        "-c", setup, journal.path()});
  daemon.Launch();
  BOOST_REQUIRE(journal.WaitFor("listening for webhooks on", std::chrono::seconds(20)));

  // The port is in the journal entry, not in the (empty) stderr log.
  uint16_t port = 0;
  BOOST_REQUIRE(journal.FindPort("listening for webhooks on 127.0.0.1:", &port));
  std::string body = DailyBody(kUserA, "2026-06-10T00:00:00+00:00", 1);
  BOOST_TEST(Post(port, kWebhookPath, SignedHeaders("wrong", body, "journal-trace"), body)
                 .status == 401u);

  BOOST_TEST(journal.WaitFor("TRACE_ID=journal-trace", std::chrono::seconds(5)));
  BOOST_TEST(journal.Seen("PRIORITY=4"));
  BOOST_TEST(journal.Seen("SYSLOG_IDENTIFIER=terra-syncd"));
  BOOST_TEST(daemon.Log().find("listening for webhooks") == std::string::npos);
  BOOST_TEST(daemon.Stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
