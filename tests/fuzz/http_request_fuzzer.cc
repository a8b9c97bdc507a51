// Fuzzes the HTTP request path: the input is written as raw bytes to the
// real HttpServer (Beast parser, limits, WebhookHandler, applier, committer
// over a real store) on 127.0.0.1 in this process, and the server's reply
// is read until it closes the connection. Every reply must be HTTP, and the
// server must keep serving. A connection over a socket costs more than a
// direct call, but it runs exactly the code a client reaches.
//
// The literal "@SIG@" in the header block is replaced by a valid
// terra-signature of the body (the bytes after the first blank line), so
// that the corpus reaches the applier and the committer, not only 401.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "daemon/config.h"
#include "daemon/http_server.h"
#include "daemon/signature.h"
#include "daemon/webhook_handler.h"
#include "store/committer.h"
#include "store/delivery_applier.h"
#include "tests/fuzz/fuzz_store.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using terra::fuzz::FuzzCheck;

constexpr char kSecret[] = "whsec-fuzz";
constexpr char kPlaceholder[] = "@SIG@";

// Small limits so that the fuzzer reaches them with small inputs.
constexpr size_t kMaxBodyBytes = 64 << 10;
constexpr size_t kMaxHeaderBytes = 4 << 10;

// A request left incomplete ends at the client's shutdown; this bounds a
// reply that never comes.
constexpr int kReplyTimeoutS = 5;

// The server, its handler and store, started on first use and left running
// for the life of the process.
class Server {
 public:
  Server()
      : applier_(terra::fuzz::FuzzStore(), terra::store::ApplierOptions{}),
        committer_(terra::fuzz::FuzzStore(), CommitterOptions()),
        handler_(terra::daemon::WebhookHandlerOptions{{kSecret}, 300},
                 &applier_, &committer_),
        work_(io_context_.get_executor()),
        server_(io_context_, "/webhooks/terra", Limits(), &handler_) {
    std::string error;
    FuzzCheck(server_.Listen({"127.0.0.1", 0}, &error), "listen on loopback");
    port_ = server_.local_endpoint().port;
    thread_ = std::thread([this] { io_context_.run(); });
    thread_.detach();  // runs until the process exits
  }

  uint16_t port() const { return port_; }

 private:
  static terra::store::CommitterOptions CommitterOptions() {
    terra::store::CommitterOptions options;
    options.sync = false;  // durability is not what this target checks
    return options;
  }

  static terra::daemon::ListenerLimits Limits() {
    terra::daemon::ListenerLimits limits;
    limits.max_body_bytes = kMaxBodyBytes;
    limits.max_inflight_body_bytes = 4 * kMaxBodyBytes;
    limits.max_header_bytes = kMaxHeaderBytes;
    limits.read_timeout = std::chrono::seconds(2);
    limits.idle_timeout = std::chrono::seconds(2);
    return limits;
  }

  terra::store::DeliveryApplier applier_;
  terra::store::Committer committer_;
  terra::daemon::WebhookHandler handler_;
  boost::asio::io_context io_context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_;
  terra::daemon::HttpServer server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Replaces the placeholder with a signature of the body.
std::string Sign(std::string request) {
  size_t at = request.find(kPlaceholder);
  size_t header_end = request.find("\r\n\r\n");
  if (at == std::string::npos || header_end == std::string::npos ||
      at > header_end) {
    return request;
  }
  std::string body = request.substr(header_end + 4);
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  request.replace(at, sizeof(kPlaceholder) - 1,
                  terra::daemon::SignBody(kSecret, now, body));
  return request;
}

// Writes `request`, half-closes, and returns everything read until the
// server closes the connection or the timeout passes.
std::string Exchange(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  FuzzCheck(fd >= 0, "create a socket");
  timeval timeout{kReplyTimeoutS, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FuzzCheck(
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0,
      "connect to the server");

  // The server may answer and close before reading everything (413, 431);
  // a failed send is then expected.
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n =
        send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);

  std::string reply;
  char buffer[4096];
  while (true) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return reply;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Server* server = new Server();  // never destroyed: see Server
  std::string request =
      Sign(std::string(reinterpret_cast<const char*>(data), size));

  std::string reply = Exchange(server->port(), request);
  FuzzCheck(reply.empty() || reply.rfind("HTTP/1.", 0) == 0,
            "a reply starts with an HTTP status line");
  return 0;
}
