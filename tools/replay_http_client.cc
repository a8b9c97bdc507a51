#include "tools/replay_http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <optional>

namespace terra::tools {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view kDefaultTarget = "/webhooks/terra";

// Returns true if `text` is a TCP port, 1 to 65535. Boost.URL parses any
// run of digits as a port, 99999 included.
bool IsPortNumber(std::string_view text) {
  unsigned port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(),
                                      port);
  return error == std::errc() && end == text.data() + text.size() &&
         port >= 1 && port <= 65535;
}

}  // namespace

bool ParseHttpUrl(std::string_view url, HttpTarget* target,
                  std::string* error) {
  boost::system::result<boost::urls::url_view> parsed =
      boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    *error = "\"" + std::string(url) +
             "\" is not a URL; use http://HOST:PORT/webhooks/terra";
    return false;
  }
  if (parsed->scheme() != "http") {
    *error = "\"" + std::string(url) +
             "\" is not an http:// URL; replay talks plain HTTP to the "
             "daemon's own listener, not to the TLS proxy in front of it";
    return false;
  }
  if (parsed->host().empty()) {
    *error = "\"" + std::string(url) + "\" names no host";
    return false;
  }

  // Boost.URL keeps the brackets of an IPv6 host; the resolver wants none.
  target->host = parsed->encoded_host_address();
  if (target->host.starts_with("[") && target->host.ends_with("]")) {
    target->host = target->host.substr(1, target->host.size() - 2);
  }
  if (parsed->has_port() && !IsPortNumber(parsed->port())) {
    *error = "\"" + std::string(url) + "\" has an invalid port \"" +
             std::string(parsed->port()) + "\"; give a number from 1 to 65535";
    return false;
  }
  target->port = parsed->has_port() ? std::string(parsed->port()) : "80";
  target->target = std::string(parsed->encoded_resource());
  if (target->target.empty() || target->target == "/") {
    target->target = kDefaultTarget;
  }
  return true;
}

struct HttpPoster::Impl {
  Impl(HttpTarget target, std::chrono::seconds timeout)
      : target(std::move(target)), timeout(timeout) {}

  // Connects if no connection is open. Returns an error message or "".
  std::string Connect() {
    if (stream) {
      return {};
    }
    boost::system::error_code ec;
    tcp::resolver resolver(io_context);
    auto endpoints = resolver.resolve(target.host, target.port, ec);
    if (ec) {
      return "cannot resolve " + target.host + ": " + ec.message();
    }
    stream.emplace(io_context);
    stream->expires_after(timeout);
    stream->async_connect(endpoints,
                          [&ec](boost::system::error_code error,
                                const tcp::endpoint&) { ec = error; });
    RunToCompletion();
    if (ec) {
      stream.reset();
      return "cannot connect to " + target.host + ":" + target.port + ": " +
             ec.message();
    }
    return {};
  }

  // Sends one request on the open connection.
  HttpReply Exchange(const http::request<http::string_body>& request) {
    HttpReply reply;
    timed_out = false;
    boost::system::error_code ec;
    auto on_done = [&ec](boost::system::error_code error, size_t) {
      ec = error;
    };
    stream->expires_after(timeout);
    http::async_write(*stream, request, on_done);
    RunToCompletion();
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (!ec) {
      http::async_read(*stream, buffer, response, on_done);
      RunToCompletion();
    }
    if (ec) {
      stream.reset();
      timed_out = ec == beast::error::timeout;
      reply.error = "request to " + target.host + ":" + target.port +
                    " failed: " + ec.message();
      return reply;
    }
    if (!response.keep_alive()) {
      stream.reset();
    }
    reply.status = response.result_int();
    reply.body = std::move(response.body());
    return reply;
  }

  // Runs the operation just started to its end. The operations are
  // asynchronous because tcp_stream applies its expiry to those only, not to
  // blocking calls.
  void RunToCompletion() {
    io_context.restart();
    io_context.run();
  }

  HttpTarget target;
  std::chrono::seconds timeout;
  asio::io_context io_context;
  std::optional<beast::tcp_stream> stream;
  bool timed_out = false;  // the last Exchange failed by timing out
};

HttpPoster::HttpPoster(HttpTarget target, std::chrono::seconds timeout)
    : impl_(std::make_unique<Impl>(std::move(target), timeout)) {}

HttpPoster::~HttpPoster() = default;

HttpReply HttpPoster::Post(
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body) {
  http::request<http::string_body> request(http::verb::post,
                                           impl_->target.target, 11);
  request.set(http::field::host, impl_->target.host);
  request.set(http::field::content_type, "application/json");
  request.set(http::field::user_agent, "terra-syncctl-replay");
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  request.body() = body;
  request.prepare_payload();
  request.keep_alive(true);

  // A kept-alive connection may have been closed by the server while idle;
  // the request is then sent once more on a fresh connection. A timeout is
  // no sign of that, so it is not sent again.
  bool reused = impl_->stream.has_value();
  if (std::string error = impl_->Connect(); !error.empty()) {
    return HttpReply{0, {}, error, /*connect_failed=*/true};
  }
  HttpReply reply = impl_->Exchange(request);
  if (reply.status == 0 && reused && !impl_->timed_out) {
    if (std::string error = impl_->Connect(); !error.empty()) {
      return HttpReply{0, {}, error, /*connect_failed=*/true};
    }
    reply = impl_->Exchange(request);
  }
  return reply;
}

}  // namespace terra::tools
