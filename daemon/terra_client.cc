#include "daemon/terra_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url.hpp>
#include <charconv>
#include <chrono>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace terra::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr int kHttpVersion = 11;
constexpr char kUserAgent[] = "terra-syncd/" TERRA_SYNC_VERSION;

// One TLS connection and its read buffer. It moves between requests and the
// idle pool, and runs on its own strand, so the stream's timer and its
// operations never run at the same time.
struct Connection {
  explicit Connection(asio::io_context& io_context, ssl::context& context)
      : stream(asio::make_strand(io_context), context) {}

  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

bool ParseInteger(std::string_view text, int64_t* value) {
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size() &&
         !text.empty();
}

// Parses a number of seconds, possibly fractional ("1.5"), as milliseconds.
std::optional<std::chrono::milliseconds> ParseSeconds(std::string_view text) {
  double seconds = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc() || end != text.data() + text.size() ||
      text.empty() || seconds < 0 || seconds > 86400.0 * 7) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Maximum wait that Retry-After may ask for, the same bound as ParseSeconds.
constexpr int64_t kMaxRetryAfterSeconds = 86400 * 7;

// Parses an HTTP date in the IMF-fixdate form of RFC 9110, such as
// "Sun, 06 Nov 1994 08:49:37 GMT", into unix seconds.
std::optional<int64_t> ParseHttpDate(std::string_view text) {
  std::string copy(text);
  std::tm parts{};
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&parts));
}

// Reads Retry-After as delay seconds or as an HTTP date. A date counts from
// the response's Date header when present, so a skewed local clock does not
// change the wait. A past date means no wait, and one over a week ahead is
// ignored.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::string_view response_date) {
  if (std::optional<std::chrono::milliseconds> seconds = ParseSeconds(value)) {
    return seconds;
  }
  std::optional<int64_t> at = ParseHttpDate(value);
  if (!at) {
    return std::nullopt;
  }

  std::optional<int64_t> now = ParseHttpDate(response_date);
  if (!now) {
    now = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  }
  int64_t delay = std::max<int64_t>(*at - *now, 0);
  if (delay > kMaxRetryAfterSeconds) {
    return std::nullopt;
  }
  return std::chrono::seconds(delay);
}

bool IsIpAddress(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Errors that mean a reused idle connection was closed by the server before
// this request reached it, so the request can safely go on a new one.
bool IsStaleConnection(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

}  // namespace

struct TerraClient::Shared {
  Shared(asio::io_context& io_context_in, TerraClientOptions options_in)
      : io_context(io_context_in),
        options(std::move(options_in)),
        context(ssl::context::tls_client) {}

  std::unique_ptr<Connection> TakeIdle() {
    std::lock_guard lock(mutex);
    if (idle.empty()) {
      return nullptr;
    }
    std::unique_ptr<Connection> connection = std::move(idle.back());
    idle.pop_back();
    return connection;
  }

  void ReturnIdle(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mutex);
    if (idle.size() < options.max_idle_connections) {
      idle.push_back(std::move(connection));
    }
  }

  asio::io_context& io_context;
  const TerraClientOptions options;
  ssl::context context;
  std::string host;
  std::string port;
  std::string host_header;
  boost::urls::url base;
  std::atomic<uint64_t> connections_opened{0};

  std::mutex mutex;
  std::vector<std::unique_ptr<Connection>> idle;
};

namespace {

// One request: takes an idle connection or opens one, writes the request,
// reads the response, and hands the connection back when it stays open.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<TerraClient::Shared> shared, std::string target,
           TerraClient::Callback done)
      : shared_(std::move(shared)),
        resolver_(asio::make_strand(shared_->io_context)),
        done_(std::move(done)) {
    request_.version(kHttpVersion);
    request_.method(http::verb::get);
    request_.target(target);
    request_.set(http::field::host, shared_->host_header);
    request_.set(http::field::user_agent, kUserAgent);
    request_.set(http::field::accept, "application/json");
    if (!shared_->options.dev_id.empty()) {
      request_.set("dev-id", shared_->options.dev_id);
    }
    if (!shared_->options.api_key.empty()) {
      request_.set("x-api-key", shared_->options.api_key);
    }
    request_.keep_alive(true);
  }

  void Start() {
    connection_ = shared_->TakeIdle();
    if (connection_ != nullptr) {
      reused_ = true;
      return DoWrite();
    }
    DoResolve();
  }

 private:
  void DoResolve() {
    reused_ = false;
    connection_ =
        std::make_unique<Connection>(shared_->io_context, shared_->context);
    resolver_.async_resolve(
        shared_->host, shared_->port,
        beast::bind_front_handler(&Exchange::OnResolve, shared_from_this()));
  }

  void OnResolve(error_code ec, tcp::resolver::results_type results) {
    if (ec) {
      return Fail(ec, "cannot resolve " + shared_->host);
    }
    beast::tcp_stream& tcp = connection_->stream.next_layer();
    tcp.expires_after(shared_->options.connect_timeout);
    tcp.async_connect(results, beast::bind_front_handler(&Exchange::OnConnect,
                                                         shared_from_this()));
  }

  void OnConnect(error_code ec, const tcp::endpoint&) {
    if (ec) {
      return Fail(ec, "cannot connect to " + shared_->host_header);
    }
    if (!ConfigureTls()) {
      return Fail(asio::error::invalid_argument,
                  "cannot set the expected host name for TLS");
    }
    shared_->connections_opened.fetch_add(1, std::memory_order_relaxed);
    connection_->stream.next_layer().expires_after(
        shared_->options.connect_timeout);
    connection_->stream.async_handshake(
        ssl::stream_base::client,
        beast::bind_front_handler(&Exchange::OnHandshake, shared_from_this()));
  }

  // Sets SNI (host names only, never IP literals) and the name that the
  // certificate must carry, which OpenSSL checks during the handshake.
  bool ConfigureTls() {
    SSL* ssl = connection_->stream.native_handle();
    const std::string& host = shared_->host;
    if (IsIpAddress(host)) {
      return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) ==
             1;
    }
    return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
           SSL_set1_host(ssl, host.c_str()) == 1;
  }

  void OnHandshake(error_code ec) {
    if (ec) {
      long verify = SSL_get_verify_result(connection_->stream.native_handle());
      std::string detail = "TLS handshake with " + shared_->host_header +
                           " failed: " + ec.message();
      if (verify != X509_V_OK) {
        detail += " (certificate rejected: ";
        detail += X509_verify_cert_error_string(verify);
        detail += ")";
      }
      return Fail(ec, std::move(detail));
    }
    DoWrite();
  }

  void DoWrite() {
    connection_->stream.next_layer().expires_after(
        shared_->options.read_timeout);
    http::async_write(
        connection_->stream, request_,
        beast::bind_front_handler(&Exchange::OnWrite, shared_from_this()));
  }

  void OnWrite(error_code ec, size_t) {
    if (ec && reused_ && IsStaleConnection(ec)) {
      return DoResolve();
    }
    if (ec) {
      return Fail(ec, "cannot send the request to " + shared_->host_header);
    }
    parser_.emplace();
    parser_->body_limit(shared_->options.max_body_bytes);
    DoReadHeader();
  }

  void DoReadHeader() {
    connection_->stream.next_layer().expires_after(
        shared_->options.read_timeout);
    http::async_read_header(
        connection_->stream, connection_->buffer, *parser_,
        beast::bind_front_handler(&Exchange::OnReadHeader, shared_from_this()));
  }

  void OnReadHeader(error_code ec, size_t) {
    if (ec && reused_ && IsStaleConnection(ec)) {
      parser_.reset();
      return DoResolve();
    }
    if (ec) {
      return Fail(ec, "no response header from " + shared_->host_header);
    }
    DoReadBody();
  }

  // Reads the body piece by piece, so that the timeout bounds each stall,
  // not the transfer of a large body.
  void DoReadBody() {
    if (parser_->is_done()) {
      return Finish();
    }
    connection_->stream.next_layer().expires_after(
        shared_->options.read_timeout);
    http::async_read_some(
        connection_->stream, connection_->buffer, *parser_,
        beast::bind_front_handler(&Exchange::OnReadBody, shared_from_this()));
  }

  void OnReadBody(error_code ec, size_t) {
    if (ec) {
      return Fail(ec,
                  "cannot read the response body from " + shared_->host_header);
    }
    DoReadBody();
  }

  void Finish() {
    http::response<http::string_body> message = parser_->release();
    TerraResponse response;
    response.status = message.result_int();
    ReadRateLimitHeaders(message, &response);
    response.body = std::move(message.body());

    connection_->stream.next_layer().expires_never();
    if (message.keep_alive()) {
      shared_->ReturnIdle(std::move(connection_));
    }
    Complete(std::move(response));
  }

  static void ReadRateLimitHeaders(
      const http::response<http::string_body>& message,
      TerraResponse* response) {
    response->rate_limit_rule = std::string(message["X-Terra-RateLimit-Rule"]);
    int64_t remaining = 0;
    if (ParseInteger(message["X-Terra-RateLimit-Remaining"], &remaining)) {
      response->rate_limit_remaining = remaining;
    }
    response->rate_limit_reset_after =
        ParseSeconds(message["X-Terra-RateLimit-Reset-After"]);
    response->retry_after = ParseRetryAfter(message[http::field::retry_after],
                                            message[http::field::date]);
  }

  void Fail(error_code ec, std::string detail) {
    // The connection is dropped: its state after an error is unknown.
    connection_.reset();
    TerraResponse response;
    response.error = ec;
    response.error_detail = std::move(detail);
    Complete(std::move(response));
  }

  void Complete(TerraResponse response) {
    TerraClient::Callback done = std::move(done_);
    done(std::move(response));
  }

  std::shared_ptr<TerraClient::Shared> shared_;
  tcp::resolver resolver_;
  TerraClient::Callback done_;
  http::request<http::empty_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::unique_ptr<Connection> connection_;
  bool reused_ = false;
};

// Checks the base URL and fills the host fields of `shared`.
bool SetBaseUrl(const std::string& text, TerraClient::Shared* shared,
                std::string* error) {
  boost::system::result<boost::urls::url_view> parsed =
      boost::urls::parse_absolute_uri(text);
  if (!parsed || parsed->scheme_id() != boost::urls::scheme::https ||
      parsed->host().empty() || parsed->has_query()) {
    *error = "invalid --terra-base-url '" + text +
             "': expected an https URL without a query, like " +
             kDefaultTerraBaseUrl;
    return false;
  }
  shared->base = *parsed;
  shared->host = parsed->host_address();
  shared->port = parsed->has_port() ? std::string(parsed->port()) : "443";
  shared->host_header = std::string(parsed->encoded_host_and_port());
  return true;
}

bool ConfigureContext(const TerraClientOptions& options, ssl::context* context,
                      std::string* error) {
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_verify_mode(ssl::verify_peer);
  error_code ec;
  context->set_default_verify_paths(ec);
  if (ec) {
    *error = "cannot load the system's CA certificates: " + ec.message();
    return false;
  }
  if (!options.ca_file.empty()) {
    context->load_verify_file(options.ca_file, ec);
    if (ec) {
      *error = "cannot load --terra-ca-file " + options.ca_file + ": " +
               ec.message();
      return false;
    }
  }
  return true;
}

}  // namespace

bool TerraClient::Create(asio::io_context& io_context,
                         TerraClientOptions options,
                         std::unique_ptr<TerraClient>* client,
                         std::string* error) {
  auto shared = std::make_shared<Shared>(io_context, std::move(options));
  if (!SetBaseUrl(shared->options.base_url, shared.get(), error) ||
      !ConfigureContext(shared->options, &shared->context, error)) {
    return false;
  }
  client->reset(new TerraClient(std::move(shared)));
  return true;
}

TerraClient::TerraClient(std::shared_ptr<Shared> shared)
    : shared_(std::move(shared)) {}

TerraClient::~TerraClient() = default;

std::string TerraClient::Target(const std::string& path,
                                const std::vector<QueryParam>& query) const {
  boost::urls::url url = shared_->base;
  std::string base_path = url.path();
  if (!base_path.empty() && base_path.back() == '/') {
    base_path.pop_back();
  }
  url.set_path(base_path + path);
  for (const auto& [name, value] : query) {
    url.params().append({name, value});
  }
  return std::string(url.encoded_target());
}

void TerraClient::Get(const std::string& path,
                      const std::vector<QueryParam>& query, Callback done) {
  auto exchange =
      std::make_shared<Exchange>(shared_, Target(path, query), std::move(done));
  exchange->Start();
}

void TerraClient::GetTarget(std::string target, Callback done) {
  auto exchange =
      std::make_shared<Exchange>(shared_, std::move(target), std::move(done));
  exchange->Start();
}

uint64_t TerraClient::connections_opened() const {
  return shared_->connections_opened.load(std::memory_order_relaxed);
}

}  // namespace terra::daemon
