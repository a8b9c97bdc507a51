// The HTTP client of `terra-syncctl replay --to`: blocking HTTP/1.1 POSTs
// over one keep-alive connection (Boost.Beast), plain http:// only. All Beast
// code of terra-syncctl lives in its .cc file.
//
// Thread safety: one HttpPoster per thread.

#ifndef TERRA_TOOLS_REPLAY_HTTP_CLIENT_H_
#define TERRA_TOOLS_REPLAY_HTTP_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace terra::tools {

// The parts of the http:// URL that replay POSTs to.
struct HttpTarget {
  std::string host;
  std::string port;    // "80" when the URL names none
  std::string target;  // path and query; "/webhooks/terra" when empty
};

// Parses an http:// URL. On failure returns false and sets `*error` to what
// is wrong (https is rejected: put the daemon's plain listener in the URL).
[[nodiscard]] bool ParseHttpUrl(std::string_view url, HttpTarget* target,
                                std::string* error);

struct HttpReply {
  unsigned status =
      0;  // 0 when no response arrived; `error` contains the reason
  std::string body;
  std::string error;
  // True when no connection could be opened, so nothing was sent; false when
  // a request was sent and then failed (reset, closed or timed out).
  bool connect_failed = false;
};

class HttpPoster {
 public:
  // `timeout` bounds connecting, and sending and reading each request.
  HttpPoster(HttpTarget target, std::chrono::seconds timeout);
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  // POSTs `body` with `headers`, connecting first when needed. A request on
  // a kept-alive connection that fails other than by timing out (the server
  // may have closed it meanwhile) is sent once more on a new connection.
  HttpReply Post(
      const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace terra::tools

#endif  // TERRA_TOOLS_REPLAY_HTTP_CLIENT_H_
