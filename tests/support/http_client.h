// A small blocking HTTP/1.1 client for tests (Boost.Beast), plus raw socket
// access for requests that a well-behaved client would never send.

#ifndef TERRA_TESTS_SUPPORT_HTTP_CLIENT_H_
#define TERRA_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace terra::testing {

struct Header {
  std::string name;
  std::string value;
};

struct HttpResult {
  unsigned status = 0;  // 0 if the connection failed or closed early
  std::string body;
  bool keep_alive = false;
  std::string error;  // why status is 0
};

// One connection to 127.0.0.1:port, reused for several requests.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request and reads the response, within 30 seconds.
  HttpResult Request(const std::string& method, const std::string& target,
                     const std::vector<Header>& headers,
                     const std::string& body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens a connection, sends one POST and closes.
HttpResult Post(uint16_t port, const std::string& target,
                const std::vector<Header>& headers, const std::string& body);

// Opens a connection, sends one GET and closes.
HttpResult Get(uint16_t port, const std::string& target);

// Writes `bytes` to a new connection, then reads until the server closes it
// or `timeout` passes. Returns everything read.
std::string SendRaw(uint16_t port, const std::string& bytes,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Returns the status code of the first response in raw HTTP bytes, or 0.
unsigned FirstStatus(const std::string& raw_response);

}  // namespace terra::testing

#endif  // TERRA_TESTS_SUPPORT_HTTP_CLIENT_H_
