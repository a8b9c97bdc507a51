// The webhook listener: Boost.Beast HTTP/1.1 with keep-alive, request limits
// and an orderly shutdown. Requests on the webhook path go to a
// WebhookHandler; everything else gets 404 or 405.

#ifndef TERRA_DAEMON_HTTP_SERVER_H_
#define TERRA_DAEMON_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "daemon/config.h"

namespace boost::asio {
class io_context;
}

namespace terra::daemon {

class WebhookHandler;
struct ServiceMetrics;

// Thread safety: Listen and BeginShutdown are called from the main thread
// before and while the io_context runs; the rest runs on io threads.
class HttpServer {
 public:
  // `handler` and `metrics` (may be null) must outlive the server.
  HttpServer(boost::asio::io_context& io_context, std::string webhook_path,
             ListenerLimits limits, WebhookHandler* handler,
             ServiceMetrics* metrics = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Applies new limits to requests that start from now on (configuration
  // reload); requests in progress keep the limits they started with.
  void UpdateLimits(const ListenerLimits& limits);

  // Serves an already listening TCP socket passed by systemd instead of
  // binding one. Returns false with `error` if the descriptor is unusable.
  [[nodiscard]] bool Adopt(int fd, std::string* error);

  // Binds `endpoint` and starts accepting. On failure returns false and sets
  // `error` to a line naming the address and the system error.
  [[nodiscard]] bool Listen(const Endpoint& endpoint, std::string* error);

  // The address actually bound (the real port when 0 was requested).
  Endpoint local_endpoint() const;

  // Stops accepting and closes idle connections. A connection in the middle
  // of a request finishes it, writes the response, then closes.
  void BeginShutdown();

  // Connections currently open.
  size_t open_connections() const;

  // Shared by the acceptor and the connections; defined in http_server.cc.
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_HTTP_SERVER_H_
