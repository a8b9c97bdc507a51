// A blocking HTTP/1.1 client for terra-syncd's admin Unix socket
// (Boost.Beast over asio::local::stream_protocol), used by the control
// commands of terra-syncctl. All of its Beast code lives in its .cc file.

#ifndef TERRA_TOOLS_ADMIN_CLIENT_H_
#define TERRA_TOOLS_ADMIN_CLIENT_H_

#include <chrono>
#include <string>
#include <string_view>

namespace terra::tools {

// The result of one admin request.
struct AdminReply {
  // False when the socket is missing, refuses the connection or no response
  // arrived in time; `error` then says which.
  bool reached = false;
  unsigned status = 0;
  std::string body;
  std::string error;
};

// Sends `method` `target` with `body` (JSON when not empty) to the daemon
// listening on the Unix socket `socket_path`, and waits up to `timeout` for
// the whole exchange.
[[nodiscard]] AdminReply SendAdminRequest(const std::string& socket_path,
                                          std::string_view method,
                                          std::string_view target,
                                          const std::string& body,
                                          std::chrono::seconds timeout);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_ADMIN_CLIENT_H_
