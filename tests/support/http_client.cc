#include "tests/support/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace terra::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(30);

}  // namespace

struct HttpConnection::Impl {
  explicit Impl(uint16_t port) : stream(io_context), port(port) {}

  asio::io_context io_context;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  uint16_t port;
  bool connected = false;
};

HttpConnection::HttpConnection(uint16_t port)
    : impl_(std::make_unique<Impl>(port)) {}

HttpConnection::~HttpConnection() {
  beast::error_code ignored;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

HttpResult HttpConnection::Request(const std::string& method,
                                   const std::string& target,
                                   const std::vector<Header>& headers,
                                   const std::string& body) {
  HttpResult result;
  beast::error_code error;
  if (!impl_->connected) {
    impl_->stream.expires_after(kRequestTimeout);
    impl_->stream.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port), error);
    if (error) {
      result.error = "connect: " + error.message();
      return result;
    }
    impl_->connected = true;
  }

  http::request<http::string_body> request(http::string_to_verb(method),
                                           target, 11);
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  for (const Header& header : headers) {
    request.insert(header.name, header.value);
  }
  request.body() = body;
  request.prepare_payload();

  impl_->stream.expires_after(kRequestTimeout);
  http::write(impl_->stream, request, error);
  if (error) {
    result.error = "write: " + error.message();
    return result;
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(impl_->stream, impl_->buffer, parser, error);
  if (error) {
    result.error = "read: " + error.message();
    impl_->connected = false;
    return result;
  }
  result.status = parser.get().result_int();
  result.body = parser.get().body();
  result.keep_alive = parser.get().keep_alive();
  return result;
}

HttpResult Post(uint16_t port, const std::string& target,
                const std::vector<Header>& headers, const std::string& body) {
  HttpConnection connection(port);
  return connection.Request("POST", target, headers, body);
}

HttpResult Get(uint16_t port, const std::string& target) {
  HttpConnection connection(port);
  return connection.Request("GET", target, {}, "");
}

std::string SendRaw(uint16_t port, const std::string& bytes,
                    std::chrono::milliseconds timeout) {
  asio::io_context io_context;
  beast::tcp_stream stream(io_context);
  beast::error_code error;
  stream.expires_after(timeout);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                 error);
  if (error) {
    return {};
  }
  stream.expires_after(timeout);
  asio::write(stream, asio::buffer(bytes), error);

  std::string received;
  char chunk[4096];
  while (true) {
    stream.expires_after(timeout);
    size_t count = stream.read_some(asio::buffer(chunk), error);
    received.append(chunk, count);
    if (error) {
      break;  // closed by the server, reset, or timed out
    }
  }
  return received;
}

unsigned FirstStatus(const std::string& raw_response) {
  // "HTTP/1.1 200 OK": the code is at offset 9.
  if (raw_response.size() < 12 || raw_response.compare(0, 5, "HTTP/") != 0) {
    return 0;
  }
  return static_cast<unsigned>(std::stoul(raw_response.substr(9, 3)));
}

}  // namespace terra::testing
