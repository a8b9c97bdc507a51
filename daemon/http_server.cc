#include "daemon/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "daemon/body_budget.h"
#include "daemon/logging.h"
#include "daemon/service_metrics.h"
#include "daemon/webhook_handler.h"

namespace terra::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Bytes read at once while waiting for the first byte of a request.
constexpr size_t kFirstReadBytes = 16 << 10;

// Body bytes reserved from the shared budget at a time, ahead of what has
// arrived. Beast reads at most 64 KiB per step, so a body never outgrows its
// reservation by more than that. Small enough that senders which declare
// large bodies and then stall hold little: at the default 1024 connections
// they can hold 256 MiB, half of the default budget.
constexpr size_t kBudgetStepBytes = 256 << 10;

// Returns the path of a request target in origin form ("/a?b" -> "/a") or
// absolute form ("http://host/a?b" -> "/a"), which HTTP/1.1 servers must
// accept too.
std::string_view RequestPath(std::string_view target) {
  size_t scheme_end = target.find("://");
  if (target.substr(0, 1) != "/" && scheme_end != std::string_view::npos) {
    size_t path_start = target.find('/', scheme_end + 3);
    target = path_start == std::string_view::npos ? std::string_view("/")
                                                  : target.substr(path_start);
  }
  return target.substr(0, target.find('?'));
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const asio::ip::address& address = endpoint.address();
  if (address.is_v6()) {
    return "[" + address.to_string() + "]:" + std::to_string(endpoint.port());
  }
  return address.to_string() + ":" + std::to_string(endpoint.port());
}

// Returns true if every transfer coding that `request` names is "chunked".
// Beast decodes only chunked and passes any other coding (gzip, deflate)
// through, so the body would be stored still encoded.
bool OnlyChunkedCoding(const http::fields& request) {
  auto [begin, end] = request.equal_range(http::field::transfer_encoding);
  for (auto field = begin; field != end; ++field) {
    for (std::string_view coding : http::token_list(field->value())) {
      if (!beast::iequals(coding, "chunked")) {
        return false;
      }
    }
  }
  return true;
}

// Formats a timeout for a message: "60 s", or "250 ms" below a whole second.
std::string FormatTimeout(std::chrono::milliseconds timeout) {
  if (timeout.count() % 1000 == 0) {
    return std::to_string(timeout.count() / 1000) + " s";
  }
  return std::to_string(timeout.count()) + " ms";
}

class Session;

}  // namespace

// Everything the acceptor and the sessions share.
struct HttpServer::State {
  State(asio::io_context& io_context_in, std::string path,
        ListenerLimits limits_in, WebhookHandler* handler_in,
        ServiceMetrics* metrics_in)
      : io_context(io_context_in),
        acceptor(asio::make_strand(io_context_in)),
        webhook_path(std::move(path)),
        limits(std::make_shared<const ListenerLimits>(limits_in)),
        handler(handler_in),
        metrics(metrics_in),
        budget(limits_in.max_inflight_body_bytes),
        log_limiter(10, std::chrono::seconds(60)) {}

  std::shared_ptr<const ListenerLimits> Limits() {
    std::lock_guard lock(limits_mutex);
    return limits;
  }

  asio::io_context& io_context;
  tcp::acceptor acceptor;
  std::string webhook_path;
  std::mutex limits_mutex;
  std::shared_ptr<const ListenerLimits> limits;  // replaced on reload
  WebhookHandler* handler;
  ServiceMetrics* metrics;
  BodyBudget budget;
  LogRateLimiter log_limiter;
  std::atomic<bool> shutting_down{false};

  std::mutex sessions_mutex;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  // Logs a rejected request, at most a few lines a minute per reason.
  void LogRejected(std::string_view reason, const std::string& remote,
                   std::string_view trace_id) {
    uint64_t suppressed = 0;
    if (!log_limiter.Allow(reason, &suppressed)) {
      return;
    }
    if (suppressed > 0) {
      spdlog::warn("{} similar rejections ({}) were not logged", suppressed,
                   reason);
    }
    spdlog::warn("rejected request from {}: {} (trace id {})", remote, reason,
                 trace_id.empty() ? "-" : trace_id);
  }
};

namespace {

using State = HttpServer::State;

// One connection: reads requests one at a time, keep-alive until the peer
// closes, an error, a timeout or shutdown.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<State> state)
      : stream_(std::move(socket)),
        request_timer_(stream_.get_executor()),
        state_(std::move(state)),
        limits_(state_->Limits()) {
    beast::error_code ignored;
    tcp::endpoint peer = stream_.socket().remote_endpoint(ignored);
    remote_ = ignored ? "unknown" : FormatEndpoint(peer);
  }

  ~Session() {
    std::lock_guard lock(state_->sessions_mutex);
    state_->sessions.erase(this);
  }

  void Start() {
    {
      std::lock_guard lock(state_->sessions_mutex);
      state_->sessions.emplace(this, weak_from_this());
    }
    asio::dispatch(stream_.get_executor(),
                   [self = shared_from_this()] { self->DoWaitForRequest(); });
  }

  // Closes the connection if it is between requests. A busy one closes after
  // its response is written. Runs on the session's strand.
  void CloseIfIdle() {
    if (!busy_) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
    }
  }

  beast::tcp_stream::executor_type executor() { return stream_.get_executor(); }

 private:
  // Waits for the first byte of the next request under the idle timeout, so
  // that the (shorter) read timeout applies only to a request in progress.
  void DoWaitForRequest() {
    if (state_->shutting_down) {
      return Close();
    }
    limits_ = state_->Limits();
    if (buffer_.size() > 0) {
      return DoReadHeader();
    }
    stream_.expires_after(limits_->idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this()));
  }

  void OnFirstBytes(beast::error_code error, size_t bytes) {
    if (error) {
      // End of stream, idle timeout and shutdown end a connection that has
      // no request in progress, so no delivery is cut off.
      return Close();
    }
    buffer_.commit(bytes);
    DoReadHeader();
  }

  void DoReadHeader() {
    busy_ = true;
    StartRequestDeadline();
    header_parser_.emplace();
    header_parser_->header_limit(
        static_cast<std::uint32_t>(limits_->max_header_bytes));
    header_parser_->body_limit(limits_->max_body_bytes);
    stream_.expires_after(limits_->read_timeout);
    http::async_read_header(
        stream_, buffer_, *header_parser_,
        beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code error, size_t) {
    if (request_timed_out_) {
      return RejectTimedOut();
    }
    if (error == http::error::header_limit) {
      return Reject(431, "request header fields too large", true);
    }
    if (error == http::error::body_limit) {
      // The parser compares Content-Length with the limit as soon as the
      // header is complete, before any body byte is read.
      return Reject(413, BodyTooLarge(), true);
    }
    if (error == beast::error::timeout) {
      state_->LogRejected("header read timed out", remote_, {});
      return Close();
    }
    if (error == http::error::end_of_stream || error == asio::error::eof ||
        error == asio::error::operation_aborted) {
      return Close();
    }
    if (error) {
      return Reject(400, "malformed HTTP request: " + error.message(), true);
    }

    const auto& request = header_parser_->get();
    version_ = request.version();
    head_request_ = request.method() == http::verb::head;
    bool body_pending = header_parser_->chunked() ||
                        header_parser_->content_length().value_or(0) > 0;

    if (version_ >= 11 && request.count(http::field::host) != 1) {
      return Reject(400, "bad request: send exactly one Host header", true);
    }
    if (!OnlyChunkedCoding(request)) {
      // The body's length cannot be known, so the connection must close.
      return Reject(501,
                    "not implemented: the only Transfer-Encoding supported "
                    "is chunked",
                    true);
    }
    if (RequestPath(request.target()) != state_->webhook_path) {
      return Reject(404, "not found: webhooks are accepted on " +
                             state_->webhook_path, body_pending);
    }
    if (request.method() != http::verb::post) {
      return Reject(405, "method not allowed: use POST", body_pending);
    }
    if (!header_parser_->chunked() && !header_parser_->content_length()) {
      return Reject(411, "length required: send Content-Length", true);
    }
    if (header_parser_->content_length().value_or(0) >
        limits_->max_body_bytes) {
      return Reject(413, BodyTooLarge(), true);
    }

    expected_body_bytes_ =
        header_parser_->chunked()
            ? limits_->max_body_bytes
            : static_cast<size_t>(*header_parser_->content_length());
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(limits_->max_body_bytes);

    if (beast::iequals(body_parser_->get()[http::field::expect],
                       "100-continue") &&
        !body_parser_->is_done()) {
      return SendContinue();
    }
    ReadBodyStep();
  }

  // Tells a client that sent `Expect: 100-continue` to send its body.
  void SendContinue() {
    auto go_ahead = std::make_shared<http::response<http::empty_body>>(
        http::status::continue_, version_);
    http::async_write(stream_, *go_ahead,
                      [self = shared_from_this(), go_ahead](
                          beast::error_code error, size_t) {
                        if (error) {
                          return self->Close();
                        }
                        self->ReadBodyStep();
                      });
  }

  // Reads the next part of the body, first reserving room for it in the
  // shared budget. Bytes are charged as they arrive, in steps, so a sender
  // that declares a large body and sends it slowly holds only what it has
  // sent, not the whole declared length.
  void ReadBodyStep() {
    if (body_parser_->is_done()) {
      return Dispatch();
    }
    size_t received = body_parser_->get().body().size();
    size_t wanted = std::min(expected_body_bytes_, received + kBudgetStepBytes);
    if (wanted <= reserved_bytes_) {
      return DoReadBody();
    }
    size_t extra = wanted - reserved_bytes_;
    state_->budget.Acquire(extra, stream_.get_executor(), limits_->budget_wait,
                           [self = shared_from_this(), extra](bool granted) {
                             self->OnBudget(granted, extra);
                           });
  }

  void OnBudget(bool granted, size_t bytes) {
    if (granted) {
      reserved_bytes_ += bytes;
    }
    if (request_timed_out_) {
      return RejectTimedOut();
    }
    if (!granted) {
      return Reject(503, "too many request bodies in memory, retry later",
                    true);
    }
    DoReadBody();
  }

  // Reads the body in steps, each under the read timeout, so a slow but
  // steady sender of a large body is not cut off while a stalled one is.
  void DoReadBody() {
    stream_.expires_after(limits_->read_timeout);
    http::async_read_some(
        stream_, buffer_, *body_parser_,
        beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code error, size_t) {
    if (request_timed_out_) {
      return RejectTimedOut();
    }
    if (error == http::error::body_limit) {
      return Reject(413, BodyTooLarge(), true);
    }
    if (error == beast::error::timeout) {
      state_->LogRejected("body read timed out", remote_, TraceId());
      return Close();
    }
    if (error == http::error::end_of_stream || error == asio::error::eof ||
        error == asio::error::operation_aborted ||
        error == asio::error::connection_reset) {
      return Close();  // the sender went away, so no response can be sent
    }
    if (error) {
      return Reject(400, "malformed HTTP request body: " + error.message(),
                    true);
    }
    ReadBodyStep();
  }

  // Starts the whole-request deadline. The read timeout restarts with every
  // body read, so only this deadline ends a request whose sender keeps each
  // read alive with a trickle of bytes.
  void StartRequestDeadline() {
    reading_request_ = true;
    request_timed_out_ = false;
    request_timer_.expires_after(limits_->request_timeout);
    request_timer_.async_wait(beast::bind_front_handler(
        &Session::OnRequestDeadline, shared_from_this()));
  }

  // Cancels the pending read, whose handler then sends 408.
  void OnRequestDeadline(beast::error_code error) {
    if (error == asio::error::operation_aborted) {
      return;  // the request arrived in time, or the connection ended
    }
    // A handler queued just before a cancel, or left from an earlier
    // request whose successor has a later expiry, must not end this one.
    if (!reading_request_ ||
        request_timer_.expiry() > std::chrono::steady_clock::now()) {
      return;
    }
    request_timed_out_ = true;
    stream_.cancel();
  }

  // Ends the deadline once the request has been read, rejected or dropped.
  // The pending wait owns the session, so it must not outlive the request.
  void StopRequestDeadline() {
    reading_request_ = false;
    request_timer_.cancel();
  }

  void RejectTimedOut() {
    Reject(408, "request timed out: the header and body must arrive within " +
                    FormatTimeout(limits_->request_timeout),
           true);
  }

  std::string BodyTooLarge() const {
    return "payload too large: the limit is " +
           std::to_string(limits_->max_body_bytes) + " bytes";
  }

  std::string_view TraceId() const {
    if (body_parser_) {
      return body_parser_->get()["X-Terra-Trace-Id"];
    }
    if (header_parser_ && header_parser_->is_header_done()) {
      return header_parser_->get()["X-Terra-Trace-Id"];
    }
    return {};
  }

  void Dispatch() {
    StopRequestDeadline();
    auto& request = body_parser_->get();
    keep_alive_ = request.keep_alive();

    WebhookRequest webhook;
    for (const auto& field : request) {
      if (beast::iequals(field.name_string(), "terra-signature")) {
        webhook.signatures.emplace_back(field.value());
      }
    }
    for (const auto& field : request) {
      if (beast::iequals(field.name_string(), "X-Terra-Signature")) {
        webhook.signatures.emplace_back(field.value());
      }
    }
    webhook.trace_id = std::string(request["X-Terra-Trace-Id"]);
    webhook.terra_reference = std::string(request["terra-reference"]);
    webhook.ordering_timestamp =
        std::string(request["X-Terra-Ordering-Timestamp"]);
    webhook.remote = remote_;
    webhook.body = std::move(request.body());
    body_parser_.reset();

    // The commit may take longer than a read timeout, and the handler
    // always calls back, so no timer runs while it works.
    stream_.expires_never();
    state_->handler->Handle(
        std::move(webhook), [self = shared_from_this()](WebhookResponse response) {
          asio::post(self->stream_.get_executor(),
                     [self, response = std::move(response)]() mutable {
                       self->Respond(response.status, std::move(response.reason),
                                     !self->keep_alive_);
                     });
        });
  }

  void Reject(unsigned status, std::string reason, bool close) {
    StopRequestDeadline();
    if (header_parser_ && !header_parser_->get().keep_alive()) {
      close = true;
    }
    if (state_->metrics != nullptr) {
      state_->metrics->http_rejections->Add({std::to_string(status)});
    }
    state_->LogRejected(reason, remote_, TraceId());
    Respond(status, std::move(reason), close);
  }

  void Respond(unsigned status, std::string reason, bool close) {
    close = close || state_->shutting_down;
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(status), version_);
    response->set(http::field::server, "terra-syncd");
    response->set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == 405) {
      response->set(http::field::allow, "POST");
    }
    response->body() = std::move(reason) + "\n";
    response->keep_alive(!close);
    response->prepare_payload();
    if (head_request_) {
      // A response to HEAD has no body, but keeps the length it would have.
      response->body().clear();
    }

    stream_.expires_after(limits_->read_timeout);
    http::async_write(
        stream_, *response,
        [self = shared_from_this(), response, close](beast::error_code error,
                                                     size_t) {
          self->OnWritten(error, close);
        });
  }

  void OnWritten(beast::error_code error, bool close) {
    if (reserved_bytes_ > 0) {
      state_->budget.Release(reserved_bytes_);
      reserved_bytes_ = 0;
    }
    header_parser_.reset();
    body_parser_.reset();
    expected_body_bytes_ = 0;
    head_request_ = false;
    busy_ = false;
    if (error || close) {
      return Close();
    }
    DoWaitForRequest();
  }

  void Close() {
    StopRequestDeadline();
    busy_ = false;
    if (reserved_bytes_ > 0) {
      state_->budget.Release(reserved_bytes_);
      reserved_bytes_ = 0;
    }
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  asio::steady_timer request_timer_;  // the whole-request deadline
  beast::flat_buffer buffer_;
  std::shared_ptr<State> state_;
  std::shared_ptr<const ListenerLimits> limits_;  // of the current request
  std::string remote_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  size_t reserved_bytes_ = 0;
  size_t expected_body_bytes_ = 0;  // Content-Length, or the limit if chunked
  unsigned version_ = 11;           // HTTP version of the current request
  bool head_request_ = false;
  bool busy_ = false;
  bool keep_alive_ = true;
  bool reading_request_ = false;    // the deadline runs
  bool request_timed_out_ = false;  // the deadline passed; send 408
};

void DoAccept(std::shared_ptr<State> state);

void OnAccept(std::shared_ptr<State> state, beast::error_code error,
              tcp::socket socket) {
  if (error == asio::error::operation_aborted || !state->acceptor.is_open()) {
    return;  // the acceptor was closed for shutdown
  }
  if (error) {
    spdlog::warn("accept failed: {}", error.message());
    return DoAccept(std::move(state));
  }

  size_t open = 0;
  {
    std::lock_guard lock(state->sessions_mutex);
    open = state->sessions.size();
  }
  if (open >= state->Limits()->max_connections) {
    beast::error_code ignored;
    tcp::endpoint peer = socket.remote_endpoint(ignored);
    state->LogRejected("connection limit reached", FormatEndpoint(peer), {});
    socket.close(ignored);
  } else {
    std::make_shared<Session>(std::move(socket), state)->Start();
  }
  DoAccept(std::move(state));
}

void DoAccept(std::shared_ptr<State> state) {
  State* raw = state.get();
  raw->acceptor.async_accept(
      asio::make_strand(raw->io_context),
      [state = std::move(state)](beast::error_code error,
                                 tcp::socket socket) mutable {
        OnAccept(std::move(state), error, std::move(socket));
      });
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io_context, std::string webhook_path,
                       ListenerLimits limits, WebhookHandler* handler,
                       ServiceMetrics* metrics)
    : state_(std::make_shared<State>(io_context, std::move(webhook_path),
                                     limits, handler, metrics)) {}

void HttpServer::UpdateLimits(const ListenerLimits& limits) {
  {
    std::lock_guard lock(state_->limits_mutex);
    state_->limits = std::make_shared<const ListenerLimits>(limits);
  }
  state_->budget.SetCapacity(limits.max_inflight_body_bytes);
}

bool HttpServer::Adopt(int fd, std::string* error) {
  beast::error_code code;
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    *error = "the webhook socket passed by systemd is not a socket";
    return false;
  }
  state_->acceptor.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(),
                          fd, code);
  if (code) {
    *error = "cannot use the webhook socket passed by systemd: " + code.message();
    return false;
  }
  DoAccept(state_);
  return true;
}

HttpServer::~HttpServer() = default;

bool HttpServer::Listen(const Endpoint& endpoint, std::string* error) {
  beast::error_code code;
  asio::ip::address address = asio::ip::make_address(endpoint.address, code);
  if (code) {
    *error = "invalid listen address " + endpoint.address + ": " + code.message();
    return false;
  }
  tcp::endpoint local(address, endpoint.port);
  std::string where = FormatEndpoint(local);

  tcp::acceptor& acceptor = state_->acceptor;
  acceptor.open(local.protocol(), code);
  if (!code) {
    acceptor.set_option(asio::socket_base::reuse_address(true), code);
  }
  if (!code) {
    acceptor.bind(local, code);
  }
  if (!code) {
    acceptor.listen(asio::socket_base::max_listen_connections, code);
  }
  if (code) {
    *error = "cannot listen on " + where + ": " + code.message();
    return false;
  }
  DoAccept(state_);
  return true;
}

Endpoint HttpServer::local_endpoint() const {
  beast::error_code ignored;
  tcp::endpoint local = state_->acceptor.local_endpoint(ignored);
  return Endpoint{local.address().to_string(), local.port()};
}

void HttpServer::BeginShutdown() {
  state_->shutting_down = true;
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
  });

  // Sessions are collected first: the last reference to one may drop here,
  // and its destructor takes sessions_mutex.
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(state_->sessions_mutex);
    for (auto& [raw, weak] : state_->sessions) {
      if (auto session = weak.lock()) {
        open.push_back(std::move(session));
      }
    }
  }
  for (auto& session : open) {
    asio::post(session->executor(), [session] { session->CloseIfIdle(); });
  }
}

size_t HttpServer::open_connections() const {
  std::lock_guard lock(state_->sessions_mutex);
  return state_->sessions.size();
}

}  // namespace terra::daemon
