#include "tests/support/fake_terra.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "daemon/date_windows.h"

namespace terra::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Sessions and pending handlers point into State without owning it. The
// io_context is declared after the TLS context and before the acceptor, so
// destroying State closes the acceptor first, then destroys every pending
// handler with the session it owns, and frees the TLS context last.
struct FakeTerra::State {
  State() : context(ssl::context::tls_server), acceptor(io_context) {}

  ssl::context context;
  asio::io_context io_context;
  tcp::acceptor acceptor;
  std::thread thread;
  std::atomic<uint64_t> connections{0};

  mutable std::mutex mutex;
  FakeHandler handler = DataReply;
  std::vector<RecordedRequest> requests;
};

namespace {

RecordedRequest Record(const http::request<http::string_body>& message,
                       uint64_t connection) {
  RecordedRequest request;
  request.method = std::string(message.method_string());
  request.connection = connection;
  request.at = std::chrono::steady_clock::now();
  boost::system::result<boost::urls::url_view> target =
      boost::urls::parse_origin_form(message.target());
  if (target) {
    request.path = target->path();
    for (const auto& param : target->params()) {
      request.query[param.key] = param.value;
    }
  }
  for (const auto& field : message) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    request.headers[name] = std::string(field.value());
  }
  return request;
}

// One TLS connection: handshake, then request after request until the client
// closes it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, FakeTerra::State* state)
      : state_(state),
        stream_(std::move(socket), state_->context),
        timer_(stream_.get_executor()),
        connection_(++state_->connections) {}

  void Start() {
    stream_.async_handshake(
        ssl::stream_base::server,
        beast::bind_front_handler(&Session::OnHandshake, shared_from_this()));
  }

 private:
  void OnHandshake(error_code ec) {
    if (!ec) {
      DoRead();
    }
  }

  void DoRead() {
    request_ = {};
    http::async_read(
        stream_, buffer_, request_,
        beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(error_code ec, size_t) {
    if (ec) {
      return;
    }
    RecordedRequest recorded = Record(request_, connection_);
    FakeHandler handler;
    {
      std::lock_guard lock(state_->mutex);
      state_->requests.push_back(recorded);
      handler = state_->handler;
    }
    reply_ = handler(recorded);
    timer_.expires_after(reply_.delay);
    timer_.async_wait(
        beast::bind_front_handler(&Session::DoWrite, shared_from_this()));
  }

  void DoWrite(error_code ec) {
    if (ec) {
      return;
    }
    response_ = {};
    response_.version(11);
    response_.result(reply_.status);
    response_.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : reply_.headers) {
      response_.set(name, value);
    }
    response_.body() = reply_.body;
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(
        stream_, response_,
        beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(error_code ec, size_t) {
    if (!ec && response_.keep_alive()) {
      DoRead();
    }
  }

  FakeTerra::State* state_;
  ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  uint64_t connection_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  FakeReply reply_;
};

void Accept(FakeTerra::State* state) {
  state->acceptor.async_accept([state](error_code ec, tcp::socket socket) {
    if (ec) {
      return;
    }
    std::make_shared<Session>(std::move(socket), state)->Start();
    Accept(state);
  });
}

json::object UserObject(const std::string& user_id, bool active) {
  return {{"user_id", user_id},
          {"provider", "GARMIN"},
          {"scopes", "ACTIVITY_EXPORT,HEALTH_EXPORT"},
          {"reference_id", "ref-" + user_id},
          {"active", active}};
}

bool IsSessionType(const std::string& type) {
  return type == "activity" || type == "sleep";
}

json::array DayItems(const RecordedRequest& request) {
  json::array items;
  std::chrono::sys_days start;
  std::chrono::sys_days end;
  if (!daemon::ParseDate(request.Query("start_date"), &start) ||
      !daemon::ParseDate(request.Query("end_date"), &end)) {
    return items;
  }
  std::string type = request.Type();
  for (std::chrono::sys_days day = start; day < end;
       day += std::chrono::days(1)) {
    std::string date = daemon::FormatDate(day);
    json::object metadata{{"start_time", date + "T00:00:00.000000+00:00"},
                          {"end_time", date + "T23:59:59.000000+00:00"}};
    if (IsSessionType(type)) {
      metadata["summary_id"] = type + "-" + date;
    }
    items.push_back(
        json::object{{"metadata", metadata}, {"fake_source", "rest"}});
  }
  return items;
}

}  // namespace

std::string RecordedRequest::Type() const {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string RecordedRequest::Query(const std::string& name) const {
  auto found = query.find(name);
  return found == query.end() ? std::string() : found->second;
}

FakeTerra::FakeTerra(const std::string& cert_file, const std::string& key_file)
    : state_(std::make_unique<State>()) {
  state_->context.use_certificate_chain_file(cert_file);
  state_->context.use_private_key_file(key_file, ssl::context::pem);

  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  Accept(state_.get());
  state_->thread =
      std::thread([state = state_.get()] { state->io_context.run(); });
}

// The stopped io_context keeps the handlers that own sessions, and ~State
// destroys them once the thread has ended. A session must not own State, or
// that cycle would keep both alive after the fake is gone.
FakeTerra::~FakeTerra() {
  state_->io_context.stop();
  state_->thread.join();
}

void FakeTerra::SetHandler(FakeHandler handler) {
  std::lock_guard lock(state_->mutex);
  state_->handler = std::move(handler);
}

uint16_t FakeTerra::port() const {
  return state_->acceptor.local_endpoint().port();
}

std::string FakeTerra::base_url() const {
  return "https://127.0.0.1:" + std::to_string(port()) + "/api/v2";
}

std::vector<RecordedRequest> FakeTerra::Requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::vector<RecordedRequest> FakeTerra::RequestsFor(
    const std::string& type) const {
  std::vector<RecordedRequest> matching;
  for (RecordedRequest& request : Requests()) {
    if (request.Type() == type) {
      matching.push_back(std::move(request));
    }
  }
  return matching;
}

uint64_t FakeTerra::connections_accepted() const {
  return state_->connections.load();
}

FakeReply DataReply(const RecordedRequest& request) {
  std::string type = request.Type();
  json::object body{{"user", UserObject(request.Query("user_id"), true)},
                    {"type", type}};
  if (type == "athlete") {
    body["athlete"] = json::object{{"first_name", "Ada"}, {"gender", "female"}};
  } else {
    body["data"] = DayItems(request);
  }
  return {200, json::serialize(body), {}, {}};
}

FakeReply EmptyReply(const RecordedRequest& request) {
  json::object body{{"user", UserObject(request.Query("user_id"), true)},
                    {"type", request.Type()},
                    {"data", json::array()}};
  return {200, json::serialize(body), {}, {}};
}

FakeReply SubscriptionsReply(
    const std::vector<std::pair<std::string, bool>>& users, int next) {
  json::array results;
  for (const auto& [user_id, active] : users) {
    results.push_back(UserObject(user_id, active));
  }
  json::object data{{"results", results}, {"max_page", next < 0 ? 0 : next}};
  data["next"] = next < 0 ? json::value(nullptr) : json::value(next);
  return {200, json::serialize(json::object{{"data", data}}), {}, {}};
}

}  // namespace terra::testing
