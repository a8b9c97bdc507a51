// An HTTPS client for Terra's REST API (Boost.Beast over asio::ssl with
// OpenSSL 3). It verifies the server's certificate chain against the system's
// CAs (and an optional CA file) and its name against the host of the base
// URL, sends SNI, requires TLS 1.2 or newer, and keeps idle connections open
// for reuse. Every request carries the `dev-id` and `x-api-key` headers when
// they are set (a client for pre-signed URLs leaves them empty); the client
// never logs them.

#ifndef TERRA_DAEMON_TERRA_CLIENT_H_
#define TERRA_DAEMON_TERRA_CLIENT_H_

#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace terra::daemon {

// Terra's published server; tests point the client at a local fake.
inline constexpr char kDefaultTerraBaseUrl[] =
    "https://access.tryterra.co/api/v2";

struct TerraClientOptions {
  std::string base_url = kDefaultTerraBaseUrl;  // https only
  std::string dev_id;
  std::string api_key;

  // PEM file of extra trusted CAs, added to the system's; may be empty.
  std::string ca_file;

  // Time for the TCP connect and, separately, the TLS handshake.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};

  // Time for the response header to arrive once the request is written, and
  // for each read of the body to make progress.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};

  // Largest response body accepted; a month of samples can be tens of MB.
  size_t max_body_bytes = size_t{512} << 20;

  // Idle keep-alive connections kept for reuse.
  size_t max_idle_connections = 8;
};

// Result of a request. `status` is 0 when no response arrived; then
// `error` and `error_detail` give the reason (a timeout is
// boost::beast::error::timeout).
struct TerraResponse {
  boost::system::error_code error;
  std::string error_detail;
  unsigned status = 0;
  std::string body;

  // Rate-limit headers, when present and well formed.
  std::string rate_limit_rule;  // X-Terra-RateLimit-Rule, e.g. "r2"
  std::optional<int64_t> rate_limit_remaining;
  std::optional<std::chrono::milliseconds> rate_limit_reset_after;
  std::optional<std::chrono::milliseconds> retry_after;
};

// A query parameter, added in order and percent-encoded by Boost.URL.
using QueryParam = std::pair<std::string, std::string>;

// Thread safety: Get may be called from any thread; callbacks run on the
// io_context's threads. The client must outlive every request it started.
class TerraClient {
 public:
  using Callback = std::function<void(TerraResponse response)>;

  // Builds a client for `options`. Returns false with `error` naming the
  // base URL or the CA file when either is unusable.
  [[nodiscard]] static bool Create(boost::asio::io_context& io_context,
                                   TerraClientOptions options,
                                   std::unique_ptr<TerraClient>* client,
                                   std::string* error);

  ~TerraClient();
  TerraClient(const TerraClient&) = delete;
  TerraClient& operator=(const TerraClient&) = delete;

  // Sends GET <base path><path>?<query> and calls `done` exactly once.
  void Get(const std::string& path, const std::vector<QueryParam>& query,
           Callback done);

  // Sends GET with `target` exactly as given (an origin-form path and query,
  // for example a pre-signed URL's) and calls `done` exactly once.
  void GetTarget(std::string target, Callback done);

  // Builds the request target (path and query) that Get would send.
  [[nodiscard]] std::string Target(const std::string& path,
                                   const std::vector<QueryParam>& query) const;

  // TLS connections opened so far (reused connections count once).
  [[nodiscard]] uint64_t connections_opened() const;

  struct Shared;

 private:
  explicit TerraClient(std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_TERRA_CLIENT_H_
