#include "tools/admin_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace terra::tools {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
using Stream = beast::basic_stream<local>;

// Largest response body read; a list of a thousand jobs fits easily.
constexpr size_t kMaxResponseBytes = size_t{64} << 20;

http::request<http::string_body> BuildRequest(std::string_view method,
                                              std::string_view target,
                                              const std::string& body) {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, "localhost");
  request.set(http::field::user_agent, "terra-syncctl");
  request.set(http::field::connection, "close");
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  return request;
}

}  // namespace

AdminReply SendAdminRequest(const std::string& socket_path,
                            std::string_view method, std::string_view target,
                            const std::string& body,
                            std::chrono::seconds timeout) {
  asio::io_context io_context;
  Stream stream(io_context);
  stream.expires_after(timeout);

  AdminReply reply;
  beast::error_code ec;
  stream.socket().connect(local::endpoint(socket_path), ec);
  if (ec) {
    reply.error = "cannot connect to " + socket_path + ": " + ec.message();
    return reply;
  }

  // The exchange runs asynchronously so that the stream's deadline bounds it.
  http::request<http::string_body> request = BuildRequest(method, target, body);
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  beast::flat_buffer buffer;
  http::async_write(
      stream, request, [&](beast::error_code write_error, size_t) {
        if (write_error) {
          ec = write_error;
          return;
        }
        http::async_read(
            stream, buffer, parser,
            [&](beast::error_code read_error, size_t) { ec = read_error; });
      });
  io_context.run();
  if (ec) {
    reply.error = "no response from " + socket_path + ": " + ec.message();
    return reply;
  }
  reply.reached = true;
  reply.status = parser.get().result_int();
  reply.body = parser.get().body();
  return reply;
}

}  // namespace terra::tools
