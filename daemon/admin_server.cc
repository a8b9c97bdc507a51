#include "daemon/admin_server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <vector>

namespace terra::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

// Admin requests are small; these bound what a local client can make the
// daemon hold.
constexpr size_t kMaxAdminBodyBytes = 1 << 20;
constexpr uint32_t kMaxAdminHeaderBytes = 16 << 10;
constexpr auto kAdminTimeout = std::chrono::seconds(30);

struct Route {
  AdminAccess access;
  AdminHandler handler;
};

}  // namespace

struct AdminServer::State {
  explicit State(asio::io_context& io_context_in) : io_context(io_context_in) {}

  asio::io_context& io_context;
  std::map<std::string, std::map<std::string, Route>> routes;  // path, method
  std::vector<std::unique_ptr<tcp::acceptor>> tcp_acceptors;
  std::vector<std::unique_ptr<unix_socket::acceptor>> unix_acceptors;
  std::atomic<bool> shutting_down{false};

  // Finds the handler of a request; fills `response` when there is none.
  const Route* Find(const AdminRequest& request, bool over_unix_socket,
                    AdminResponse* response) const {
    auto path = routes.find(request.path);
    if (path == routes.end()) {
      *response = {404, "text/plain; charset=utf-8", "not found\n"};
      return nullptr;
    }
    auto method = path->second.find(request.method);
    if (method == path->second.end()) {
      *response = {405, "text/plain; charset=utf-8", "method not allowed\n"};
      return nullptr;
    }
    if (method->second.access == AdminAccess::kUnixSocketOnly &&
        !over_unix_socket) {
      *response = {403, "text/plain; charset=utf-8",
                   "forbidden: control requests are accepted only on the "
                   "admin Unix socket\n"};
      return nullptr;
    }
    return &method->second;
  }
};

namespace {

using State = AdminServer::State;

// One admin connection of either socket family.
template <class Protocol>
class AdminSession
    : public std::enable_shared_from_this<AdminSession<Protocol>> {
 public:
  using Stream = beast::basic_stream<Protocol>;

  AdminSession(typename Protocol::socket socket, std::shared_ptr<State> state)
      : stream_(std::move(socket)), state_(std::move(state)) {}

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   [self = this->shared_from_this()] { self->DoRead(); });
  }

 private:
  static constexpr bool kOverUnixSocket =
      std::is_same_v<Protocol, unix_socket>;

  void DoRead() {
    parser_.emplace();
    parser_->body_limit(kMaxAdminBodyBytes);
    parser_->header_limit(kMaxAdminHeaderBytes);
    stream_.expires_after(kAdminTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&AdminSession::OnRead,
                                               this->shared_from_this()));
  }

  void OnRead(beast::error_code error, size_t) {
    if (error) {
      return Close();  // end of stream, timeout or a malformed request
    }
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();

    AdminRequest request;
    request.method = std::string(message.method_string());
    std::string_view target = message.target();
    size_t question = target.find('?');
    request.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) {
      request.query = std::string(target.substr(question + 1));
    }
    request.body = std::move(message.body());

    AdminResponse response;
    const Route* route = state_->Find(request, kOverUnixSocket, &response);
    if (route == nullptr) {
      return Write(std::move(response));
    }
    stream_.expires_never();
    route->handler(request, [self = this->shared_from_this()](
                                AdminResponse response) {
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response)]() mutable {
                   self->Write(std::move(response));
                 });
    });
  }

  void Write(AdminResponse admin_response) {
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(admin_response.status), 11);
    response->set(http::field::server, "terra-syncd");
    response->set(http::field::content_type, admin_response.content_type);
    response->body() = std::move(admin_response.body);
    response->keep_alive(keep_alive_ && !state_->shutting_down);
    response->prepare_payload();

    stream_.expires_after(kAdminTimeout);
    http::async_write(stream_, *response,
                      [self = this->shared_from_this(), response](
                          beast::error_code error, size_t) {
                        if (error || !response->keep_alive()) {
                          return self->Close();
                        }
                        self->DoRead();
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<State> state_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
};

template <class Acceptor>
void DoAccept(std::shared_ptr<State> state, Acceptor* acceptor) {
  using Protocol = typename Acceptor::protocol_type;
  acceptor->async_accept(
      asio::make_strand(state->io_context),
      [state, acceptor](beast::error_code error,
                        typename Protocol::socket socket) mutable {
        if (error == asio::error::operation_aborted || !acceptor->is_open()) {
          return;
        }
        if (!error) {
          std::make_shared<AdminSession<Protocol>>(std::move(socket), state)
              ->Start();
        } else {
          spdlog::warn("admin accept failed: {}", error.message());
        }
        DoAccept(std::move(state), acceptor);
      });
}

}  // namespace

AdminServer::AdminServer(asio::io_context& io_context)
    : state_(std::make_shared<State>(io_context)) {}

AdminServer::~AdminServer() = default;

void AdminServer::AddRoute(std::string method, std::string path,
                           AdminAccess access, AdminHandler handler) {
  state_->routes[std::move(path)][std::move(method)] =
      Route{access, std::move(handler)};
}

bool AdminServer::ListenTcp(const Endpoint& endpoint, std::string* error) {
  beast::error_code code;
  asio::ip::address address = asio::ip::make_address(endpoint.address, code);
  if (code) {
    *error = "invalid admin address " + endpoint.address + ": " + code.message();
    return false;
  }
  auto acceptor = std::make_unique<tcp::acceptor>(
      asio::make_strand(state_->io_context));
  tcp::endpoint local(address, endpoint.port);
  acceptor->open(local.protocol(), code);
  if (!code) {
    acceptor->set_option(asio::socket_base::reuse_address(true), code);
  }
  if (!code) {
    acceptor->bind(local, code);
  }
  if (!code) {
    acceptor->listen(asio::socket_base::max_listen_connections, code);
  }
  if (code) {
    *error = "cannot listen for admin requests on " + endpoint.address + ":" +
             std::to_string(endpoint.port) + ": " + code.message();
    return false;
  }
  DoAccept(state_, acceptor.get());
  state_->tcp_acceptors.push_back(std::move(acceptor));
  return true;
}

bool AdminServer::ListenUnix(const std::string& path, unsigned mode,
                             std::string* error) {
  // A socket file left by a crashed run would make bind fail; remove it, but
  // never anything that is not a socket.
  struct stat info {};
  if (lstat(path.c_str(), &info) == 0) {
    if (!S_ISSOCK(info.st_mode)) {
      *error = "cannot create admin socket " + path +
               ": a file that is not a socket is in the way";
      return false;
    }
    unlink(path.c_str());
  }

  beast::error_code code;
  auto acceptor = std::make_unique<unix_socket::acceptor>(
      asio::make_strand(state_->io_context));
  unix_socket::endpoint local(path);
  acceptor->open(local.protocol(), code);
  if (!code) {
    acceptor->bind(local, code);
  }
  if (!code) {
    acceptor->listen(asio::socket_base::max_listen_connections, code);
  }
  if (code) {
    *error = "cannot listen on admin socket " + path + ": " + code.message();
    return false;
  }
  if (chmod(path.c_str(), mode) != 0) {
    *error = "cannot set the mode of admin socket " + path;
    return false;
  }
  DoAccept(state_, acceptor.get());
  state_->unix_acceptors.push_back(std::move(acceptor));
  return true;
}

bool AdminServer::AdoptTcp(int fd, std::string* error) {
  beast::error_code code;
  auto acceptor = std::make_unique<tcp::acceptor>(
      asio::make_strand(state_->io_context));
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  acceptor->assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd,
                   code);
  if (code) {
    *error = "cannot use the admin socket passed by systemd: " + code.message();
    return false;
  }
  DoAccept(state_, acceptor.get());
  state_->tcp_acceptors.push_back(std::move(acceptor));
  return true;
}

bool AdminServer::AdoptUnix(int fd, std::string* error) {
  beast::error_code code;
  auto acceptor = std::make_unique<unix_socket::acceptor>(
      asio::make_strand(state_->io_context));
  acceptor->assign(unix_socket(), fd, code);
  if (code) {
    *error = "cannot use the admin socket passed by systemd: " + code.message();
    return false;
  }
  DoAccept(state_, acceptor.get());
  state_->unix_acceptors.push_back(std::move(acceptor));
  return true;
}

Endpoint AdminServer::tcp_endpoint() const {
  for (const auto& acceptor : state_->tcp_acceptors) {
    beast::error_code ignored;
    tcp::endpoint local = acceptor->local_endpoint(ignored);
    if (!ignored) {
      return Endpoint{local.address().to_string(), local.port()};
    }
  }
  return {};
}

void AdminServer::BeginShutdown() {
  state_->shutting_down = true;
  for (auto& acceptor : state_->tcp_acceptors) {
    asio::post(acceptor->get_executor(), [state = state_, raw = acceptor.get()] {
      beast::error_code ignored;
      raw->close(ignored);
    });
  }
  for (auto& acceptor : state_->unix_acceptors) {
    asio::post(acceptor->get_executor(), [state = state_, raw = acceptor.get()] {
      beast::error_code ignored;
      raw->close(ignored);
    });
  }
}

}  // namespace terra::daemon
