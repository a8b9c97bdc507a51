#include "tests/tools/faulty_relay.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/support/http_client.h"

namespace terra::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Upper bound on how long a connection waits for its next request, and how
// long a stalled request stays unanswered if the client never gives up.
constexpr auto kConnectionLimit = std::chrono::seconds(20);

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Returns true for the headers that carry a Terra delivery: the signature,
// trace id, reference and ordering timestamp.
bool IsTerraHeader(std::string_view name) {
  std::string lower;
  for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower.starts_with("terra-") || lower.starts_with("x-terra-");
}

}  // namespace

struct FaultyRelay::State {
  uint16_t daemon_port = 0;
  uint16_t port = 0;
  std::map<std::string, RelayFault> faults;
  asio::io_context io_context;
  tcp::acceptor acceptor{io_context};
  std::thread thread;

  // Forwards `request` to the daemon and returns its response, or 502 when
  // no response arrived.
  http::response<http::string_body> Forward(
      const http::request<http::string_body>& request) const {
    std::vector<Header> headers;
    for (const auto& field : request) {
      if (IsTerraHeader(field.name_string())) {
        headers.push_back(
            {std::string(field.name_string()), std::string(field.value())});
      }
    }
    // Blocks the relay's only thread; replay sends one request at a time.
    HttpResult result =
        Post(daemon_port, std::string(request.target()), headers,
             request.body());
    http::response<http::string_body> response;
    response.result(result.status == 0 ? 502 : result.status);
    response.body() = result.status == 0 ? result.error : result.body;
    return response;
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> request;
      stream.expires_after(kConnectionLimit);
      auto [read_error, read_bytes] =
          co_await http::async_read(stream, buffer, request, kUseTuple);
      if (read_error) co_return;  // the client closed, or the limit passed

      auto fault = faults.find(std::string(request["X-Terra-Trace-Id"]));
      http::response<http::string_body> response;
      if (fault == faults.end()) {
        response = Forward(request);
      } else if (fault->second == RelayFault::kDrop) {
        co_return;  // the stream closes as it goes out of scope
      } else if (fault->second == RelayFault::kStall) {
        // Waits for the client to give up and close (or for the limit).
        co_await http::async_read(stream, buffer, request, kUseTuple);
        co_return;
      } else {
        response.result(http::status::internal_server_error);
        response.body() = "injected failure";
      }

      response.version(11);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [write_error, written] =
          co_await http::async_write(stream, response, kUseTuple);
      if (write_error || !response.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> Accept() {
    while (true) {
      auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
      if (error) co_return;  // the acceptor was closed
      asio::co_spawn(io_context, Serve(std::move(socket)), asio::detached);
    }
  }
};

FaultyRelay::FaultyRelay(uint16_t daemon_port,
                         std::map<std::string, RelayFault> faults)
    : state_(std::make_unique<State>()) {
  state_->daemon_port = daemon_port;
  state_->faults = std::move(faults);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  state_->port = state_->acceptor.local_endpoint().port();
  asio::co_spawn(state_->io_context, state_->Accept(), asio::detached);
  state_->thread = std::thread([state = state_.get()] {
    state->io_context.run();
  });
}

FaultyRelay::~FaultyRelay() {
  state_->io_context.stop();
  state_->thread.join();
}

std::string FaultyRelay::url() const {
  return "http://127.0.0.1:" + std::to_string(state_->port) +
         "/webhooks/terra";
}

}  // namespace terra::testing
