// The HTTPS client against the fake Terra API with a test CA.

#include "daemon/terra_client.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/test/unit_test.hpp>
#include <ctime>
#include <future>
#include <thread>

#include "tests/support/fake_terra.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace terra::daemon {
namespace {

using testing::FakeReply;
using testing::FakeTerra;
using testing::RecordedRequest;

constexpr auto kWaitLimit = std::chrono::seconds(10);

// A client on its own io_context thread, talking to a fake Terra whose
// certificate carries `subject_alt_name`.
class ClientFixture {
 public:
  explicit ClientFixture(
      const std::string& subject_alt_name = "IP:127.0.0.1",
      std::chrono::milliseconds read_timeout = std::chrono::seconds(5))
      : ca_(dir_.path().string()),
        certificate_(ca_.Issue("server", subject_alt_name)),
        fake_(certificate_.cert_file, certificate_.key_file),
        work_(io_context_.get_executor()) {
    TerraClientOptions options;
    options.base_url = fake_.base_url();
    options.dev_id = "test-dev-id";
    options.api_key = "test-api-key";
    options.ca_file = ca_.ca_file();
    options.read_timeout = read_timeout;
    std::string error;
    BOOST_REQUIRE_MESSAGE(
        TerraClient::Create(io_context_, options, &client_, &error), error);
    thread_ = std::thread([this] { io_context_.run(); });
  }

  ~ClientFixture() {
    work_.reset();
    io_context_.stop();
    thread_.join();
  }

  TerraResponse Get(const std::string& path,
                    const std::vector<QueryParam>& query = {}) {
    auto promise = std::make_shared<std::promise<TerraResponse>>();
    std::future<TerraResponse> future = promise->get_future();
    client_->Get(path, query, [promise](TerraResponse response) {
      promise->set_value(std::move(response));
    });
    if (future.wait_for(kWaitLimit) != std::future_status::ready) {
      BOOST_FAIL("no response within the wait limit");
    }
    return future.get();
  }

  testing::TempDir dir_;
  testing::TestCa ca_;
  testing::ServerCertificate certificate_;
  FakeTerra fake_;
  boost::asio::io_context io_context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_;
  std::unique_ptr<TerraClient> client_;
  std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(terra_client)

BOOST_AUTO_TEST_CASE(get_ok) {
  ClientFixture fixture;
  TerraResponse response = fixture.Get("/daily", {{"user_id", "u-1"},
                                                  {"start_date", "2026-07-01"},
                                                  {"end_date", "2026-07-03"},
                                                  {"to_webhook", "false"}});
  BOOST_TEST(response.error_detail == "");
  BOOST_TEST(response.status == 200u);
  BOOST_TEST(response.body.find("2026-07-02T00:00:00") != std::string::npos);

  std::vector<RecordedRequest> requests = fixture.fake_.Requests();
  BOOST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].path == "/api/v2/daily");
  BOOST_TEST(requests[0].Query("to_webhook") == "false");
  BOOST_TEST(requests[0].headers["dev-id"] == "test-dev-id");
  BOOST_TEST(requests[0].headers["x-api-key"] == "test-api-key");
}

BOOST_AUTO_TEST_CASE(query_encoded) {
  ClientFixture fixture;
  BOOST_TEST(fixture.client_->Target("/daily", {{"user_id", "a b&c"}}) ==
             "/api/v2/daily?user_id=a%20b%26c");
  TerraResponse response = fixture.Get("/daily", {{"user_id", "a b&c"}});
  BOOST_TEST(response.status == 200u);
  BOOST_TEST(fixture.fake_.Requests().at(0).Query("user_id") == "a b&c");
}

BOOST_AUTO_TEST_CASE(keep_alive_reuse) {
  ClientFixture fixture;
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(fixture.Get("/athlete", {{"user_id", "u-1"}}).status == 200u);
  }
  BOOST_TEST(fixture.fake_.connections_accepted() == 1u);
  BOOST_TEST(fixture.client_->connections_opened() == 1u);
}

BOOST_AUTO_TEST_CASE(rate_limit_headers) {
  ClientFixture fixture;
  fixture.fake_.SetHandler([](const RecordedRequest&) {
    return FakeReply{429,
                     "{}",
                     {{"X-Terra-RateLimit-Rule", "r2"},
                      {"Retry-After", "7"},
                      {"X-Terra-RateLimit-Remaining", "12"},
                      {"X-Terra-RateLimit-Reset-After", "1.5"}},
                     {}};
  });
  TerraResponse response = fixture.Get("/sleep");
  BOOST_TEST(response.status == 429u);
  BOOST_TEST(response.rate_limit_rule == "r2");
  BOOST_TEST(
      response.retry_after.value_or(std::chrono::milliseconds(-1)).count() ==
      7000);
  BOOST_TEST(response.rate_limit_remaining.value_or(-1) == 12);
  BOOST_TEST(
      response.rate_limit_reset_after.value_or(std::chrono::milliseconds(-1))
          .count() == 1500);
}

// Returns the Retry-After that the client read from a 429 with `headers`,
// in ms, or -1 when it read none.
int64_t RetryAfterMs(std::vector<std::pair<std::string, std::string>> headers) {
  ClientFixture fixture;
  headers.emplace_back("X-Terra-RateLimit-Rule", "r2");
  fixture.fake_.SetHandler([headers](const RecordedRequest&) {
    return FakeReply{429, "{}", headers, {}};
  });
  TerraResponse response = fixture.Get("/sleep");
  return response.retry_after.value_or(std::chrono::milliseconds(-1)).count();
}

BOOST_AUTO_TEST_CASE(retry_after_http_date) {
  // Counted from the response's Date header, not from this host's clock.
  BOOST_TEST(RetryAfterMs({{"Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"},
                           {"Date", "Sun, 06 Nov 1994 08:49:00 GMT"}}) ==
             37000);
  // A date in the past means retry now.
  BOOST_TEST(RetryAfterMs({{"Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"},
                           {"Date", "Sun, 06 Nov 1994 09:00:00 GMT"}}) == 0);
  // More than a week ahead, or not a date at all: no Retry-After.
  BOOST_TEST(RetryAfterMs({{"Retry-After", "Sun, 20 Nov 1994 08:49:37 GMT"},
                           {"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}}) == -1);
  BOOST_TEST(RetryAfterMs({{"Retry-After", "tomorrow"}}) == -1);
}

BOOST_AUTO_TEST_CASE(retry_after_date_without_date_header) {
  std::time_t at = std::time(nullptr) + 120;
  char text[64];
  std::tm parts{};
  gmtime_r(&at, &parts);
  std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &parts);

  int64_t ms = RetryAfterMs({{"Retry-After", text}});

  // The local clock moved on while the request ran.
  BOOST_TEST((ms >= 110000 && ms <= 120000), ms);
}

BOOST_AUTO_TEST_CASE(stall_times_out) {
  ClientFixture fixture("IP:127.0.0.1", std::chrono::milliseconds(300));
  fixture.fake_.SetHandler([](const RecordedRequest& request) {
    FakeReply reply = testing::DataReply(request);
    reply.delay = std::chrono::seconds(3);
    return reply;
  });
  auto started = std::chrono::steady_clock::now();
  TerraResponse response = fixture.Get("/daily");
  auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST(response.status == 0u);
  BOOST_TEST(response.error.message() ==
             boost::system::error_code(boost::beast::error::timeout).message());
  BOOST_TEST(elapsed < std::chrono::seconds(2));
}

BOOST_AUTO_TEST_CASE(wrong_host_rejected) {
  ClientFixture fixture("DNS:wrong.example");
  TerraResponse response = fixture.Get("/daily");
  BOOST_TEST(response.status == 0u);
  BOOST_TEST(
      response.error_detail.find("IP address mismatch") != std::string::npos,
      response.error_detail);
  BOOST_TEST(fixture.fake_.Requests().empty());
}

BOOST_AUTO_TEST_CASE(unknown_ca_rejected) {
  testing::TempDir other_dir;
  testing::TestCa other_ca(other_dir.path().string());
  ClientFixture fixture;
  TerraClientOptions options;
  options.base_url = fixture.fake_.base_url();
  options.ca_file = other_ca.ca_file();
  std::unique_ptr<TerraClient> client;
  std::string error;
  BOOST_REQUIRE(
      TerraClient::Create(fixture.io_context_, options, &client, &error));
  std::promise<TerraResponse> promise;
  client->Get("/daily", {}, [&promise](TerraResponse response) {
    promise.set_value(std::move(response));
  });
  std::future<TerraResponse> future = promise.get_future();
  BOOST_REQUIRE(future.wait_for(kWaitLimit) == std::future_status::ready);
  TerraResponse response = future.get();
  BOOST_TEST(response.status == 0u);
  BOOST_TEST(
      response.error_detail.find("certificate rejected") != std::string::npos,
      response.error_detail);
}

BOOST_AUTO_TEST_CASE(invalid_base_url) {
  boost::asio::io_context io_context;
  std::unique_ptr<TerraClient> client;
  std::string error;
  TerraClientOptions options;
  options.base_url = "http://x/api";
  BOOST_TEST(!TerraClient::Create(io_context, options, &client, &error));
  BOOST_TEST(error.find("--terra-base-url") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
