// The request path below HTTP: signature, ordering timestamp and commit, on
// a real store with a fixed clock.

#include "daemon/webhook_handler.h"

#include <boost/test/unit_test.hpp>
#include <future>

#include "daemon/signature.h"
#include "store/committer.h"
#include "store/delivery_applier.h"
#include "store/queries.h"
#include "store/store.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

namespace terra::daemon {
namespace {

constexpr char kSecret[] = "handler-secret";
constexpr int64_t kNowMs = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr char kUser[] = "40f7b0e1-89e2-43ac-a5b8-1e29c8d47cad";

// A store, committer, applier and handler whose clock reads kNowMs.
class HandlerFixture {
 public:
  HandlerFixture() {
    store::StoreOptions options;
    options.path = dir_.path().string();
    store::Status status = store::Store::Open(options, &store_);
    BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
    committer_ = std::make_unique<store::Committer>(store_.get(),
                                                    store::CommitterOptions{});
    applier_ = std::make_unique<store::DeliveryApplier>(
        store_.get(), store::ApplierOptions{});
    handler_ = std::make_unique<WebhookHandler>(
        WebhookHandlerOptions{{kSecret}, 300}, applier_.get(),
        committer_.get(), [] { return kNowMs; });
  }

  ~HandlerFixture() { committer_->Stop(); }

  // Sends `body` signed at `signed_s` and waits for the response.
  WebhookResponse Send(const std::string& body, const std::string& trace_id,
                       int64_t signed_s = kNowMs / 1000,
                       const std::string& ordering = "") {
    WebhookRequest request;
    request.signatures = {SignBody(kSecret, signed_s, body)};
    request.trace_id = trace_id;
    request.ordering_timestamp = ordering;
    request.remote = "127.0.0.1:1";
    request.body = body;
    return SendRequest(std::move(request));
  }

  WebhookResponse SendRequest(WebhookRequest request) {
    std::promise<WebhookResponse> promise;
    auto future = promise.get_future();
    handler_->Handle(std::move(request), [&promise](WebhookResponse response) {
      promise.set_value(std::move(response));
    });
    BOOST_REQUIRE(future.wait_for(std::chrono::seconds(10)) ==
                  std::future_status::ready);
    return future.get();
  }

  // Returns the ordering_ms of the one daily record, or -1.
  int64_t DailyOrderingMs() {
    int64_t ordering = -1;
    store::RecordFilter filter;
    filter.type = "daily";
    store::Status status = store::ForEachRecord(
        *store_, filter, [&](const store::RecordView& record) {
          ordering = record.envelope->ordering_ms;
          return true;
        });
    BOOST_REQUIRE(status.ok());
    return ordering;
  }

  WebhookHandler& handler() { return *handler_; }
  store::Committer& committer() { return *committer_; }

 private:
  terra::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Committer> committer_;
  std::unique_ptr<store::DeliveryApplier> applier_;
  std::unique_ptr<WebhookHandler> handler_;
};

std::string Daily() { return terra::testing::ReadFixture("daily.json"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_handler)

BOOST_AUTO_TEST_CASE(ordering_timestamp_rules) {
  int64_t ms = 0;
  BOOST_TEST(ParseOrderingTimestamp("1767225600123", &ms));
  BOOST_TEST(ms == 1767225600123);
  BOOST_TEST(!ParseOrderingTimestamp("", &ms));
  BOOST_TEST(!ParseOrderingTimestamp("-5", &ms));
  BOOST_TEST(!ParseOrderingTimestamp("12abc", &ms));
  BOOST_TEST(!ParseOrderingTimestamp("99999999999999999999", &ms));

  BOOST_TEST(EffectiveOrderingMs(false, 0, 100) == 100000);
  BOOST_TEST(EffectiveOrderingMs(true, 99999, 100) == 99999);
  BOOST_TEST(EffectiveOrderingMs(true, 100001, 100) == 100000);
}

BOOST_AUTO_TEST_CASE(signed_delivery_stored) {
  HandlerFixture fixture;
  WebhookResponse response = fixture.Send(Daily(), "t1");
  BOOST_TEST(response.status == 200u);
  BOOST_TEST(response.reason == "stored");
  BOOST_TEST(fixture.handler().counters().stored == 1u);
  BOOST_TEST(fixture.DailyOrderingMs() == kNowMs);
}

BOOST_AUTO_TEST_CASE(header_capped_at_signed_time) {
  HandlerFixture fixture;
  std::string future_ms = std::to_string(kNowMs + 3600000);
  fixture.Send(Daily(), "t1", kNowMs / 1000, future_ms);
  BOOST_TEST(fixture.DailyOrderingMs() == kNowMs);
}

BOOST_AUTO_TEST_CASE(invalid_header_falls_back_to_signed_time) {
  HandlerFixture fixture;
  fixture.Send(Daily(), "t1", kNowMs / 1000 - 10, "not-a-number");
  BOOST_TEST(fixture.DailyOrderingMs() == kNowMs - 10000);
}

BOOST_AUTO_TEST_CASE(stale_and_future_rejected) {
  HandlerFixture fixture;
  WebhookResponse stale = fixture.Send(Daily(), "t1", kNowMs / 1000 - 301);
  WebhookResponse future = fixture.Send(Daily(), "t2", kNowMs / 1000 + 301);
  BOOST_TEST(stale.status == 401u);
  BOOST_TEST(future.status == 401u);
  BOOST_TEST(fixture.handler().counters().signature_failures == 2u);
  BOOST_TEST(fixture.DailyOrderingMs() == -1);
}

BOOST_AUTO_TEST_CASE(duplicate_counted) {
  HandlerFixture fixture;
  fixture.Send(Daily(), "same");
  WebhookResponse again = fixture.Send(Daily(), "same");
  BOOST_TEST(again.status == 200u);
  BOOST_TEST(fixture.handler().counters().duplicates == 1u);
}

BOOST_AUTO_TEST_CASE(no_signature_header) {
  HandlerFixture fixture;
  WebhookRequest request;
  request.body = Daily();
  WebhookResponse response = fixture.SendRequest(std::move(request));
  BOOST_TEST(response.status == 401u);
  BOOST_TEST(response.reason.find("missing") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(store_refusing_writes_gets_503) {
  HandlerFixture fixture;
  fixture.committer().Stop();  // the committer now fails every request
  WebhookResponse response = fixture.Send(Daily(), "t1");
  BOOST_TEST(response.status == 503u);
  BOOST_TEST(response.reason.find("retry later") != std::string::npos);
  BOOST_TEST(fixture.handler().counters().store_failures == 1u);
  BOOST_TEST(fixture.DailyOrderingMs() == -1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
