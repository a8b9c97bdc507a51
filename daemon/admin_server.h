// The local admin listener: HTTP/1.1 on a loopback TCP port and, optionally,
// on a Unix domain socket. It serves health and metrics, and control routes
// (start a backfill, reconcile now, list jobs) that are reachable only
// through the Unix socket, whose file permissions decide who may use them.

#ifndef TERRA_DAEMON_ADMIN_SERVER_H_
#define TERRA_DAEMON_ADMIN_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "daemon/config.h"

namespace boost::asio {
class io_context;
}

namespace terra::daemon {

struct AdminRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // target without the query string
  std::string query;   // text after '?', may be empty
  std::string body;
};

struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Handles one admin request; calls `respond` exactly once, from any thread.
using AdminHandler =
    std::function<void(const AdminRequest& request,
                       std::function<void(AdminResponse)> respond)>;

// Listeners that serve a route.
enum class AdminAccess {
  kAll,           // loopback TCP and the Unix socket (health, metrics)
  kUnixSocketOnly // control routes
};

// Thread safety: AddRoute and the Listen calls happen before the io_context
// runs; BeginShutdown may be called from the io_context's threads.
class AdminServer {
 public:
  explicit AdminServer(boost::asio::io_context& io_context);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Registers `handler` for `method` and exact `path`. A request whose path
  // matches but method does not gets 405.
  void AddRoute(std::string method, std::string path, AdminAccess access,
                AdminHandler handler);

  // Binds a TCP endpoint (loopback by default). Returns false with `error`
  // naming the address on failure.
  [[nodiscard]] bool ListenTcp(const Endpoint& endpoint, std::string* error);

  // Binds a Unix domain socket at `path` with file mode `mode`, replacing a
  // stale socket file left by an earlier run. Returns false with `error`.
  [[nodiscard]] bool ListenUnix(const std::string& path, unsigned mode,
                                std::string* error);

  // Serves an already listening socket passed by systemd.
  [[nodiscard]] bool AdoptTcp(int fd, std::string* error);
  [[nodiscard]] bool AdoptUnix(int fd, std::string* error);

  // The TCP address bound by ListenTcp (the real port when 0 was asked).
  Endpoint tcp_endpoint() const;

  // Stops accepting and closes connections once their request is answered.
  void BeginShutdown();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_ADMIN_SERVER_H_
