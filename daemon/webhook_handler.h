// The webhook request path after HTTP framing: signature verification on the
// raw bytes, the ordering timestamp cap, the payload applier and the
// committer. It has no Beast types, so it compiles fast and tests directly.

#ifndef TERRA_DAEMON_WEBHOOK_HANDLER_H_
#define TERRA_DAEMON_WEBHOOK_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/logging.h"

namespace terra::store {
class Committer;
class DeliveryApplier;
struct AppliedDelivery;
}  // namespace terra::store

namespace terra::daemon {

class PayloadFetcher;
struct ServiceMetrics;

// The parts of a POSTed webhook that matter, copied out of the HTTP layer.
struct WebhookRequest {
  // Values of every `terra-signature` and `X-Terra-Signature` header field,
  // in that order; the request is accepted if any of them verifies.
  std::vector<std::string> signatures;
  std::string trace_id;            // X-Terra-Trace-Id, may be empty
  std::string terra_reference;     // terra-reference, may be empty
  std::string ordering_timestamp;  // X-Terra-Ordering-Timestamp, may be empty
  std::string remote;              // peer address, for logs
  std::string body;                // exactly as received
};

// Response to a webhook: a status code and a short plain-text reason.
struct WebhookResponse {
  unsigned status = 500;
  std::string reason;
};

// Counters of the request path, readable from any thread.
struct WebhookCounters {
  std::atomic<uint64_t> stored{0};
  std::atomic<uint64_t> recorded{0};
  std::atomic<uint64_t> archived{0};
  std::atomic<uint64_t> quarantined{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> signature_failures{0};
  std::atomic<uint64_t> store_failures{0};
};

struct WebhookHandlerOptions {
  std::vector<std::string> secrets;
  int64_t tolerance_s = 300;
};

// Thread safety: Handle may be called from any thread concurrently.
class WebhookHandler {
 public:
  using Clock = std::function<int64_t()>;  // unix time in ms
  using Done = std::function<void(WebhookResponse)>;

  // `applier`, `committer` and `metrics` (may be null) must outlive the
  // handler. `clock` defaults to the system clock.
  WebhookHandler(WebhookHandlerOptions options,
                 const store::DeliveryApplier* applier,
                 store::Committer* committer, Clock clock = {},
                 ServiceMetrics* metrics = nullptr);

  // Replaces the secrets and tolerance for requests that arrive from now on
  // (configuration reload). Thread-safe.
  void UpdateOptions(WebhookHandlerOptions options);

  // Fetches the payloads of `s3_payload` events through `fetcher` once the
  // event is stored. Without a fetcher such events stay archived. Call before
  // the first request; `fetcher` must outlive the handler.
  void SetPayloadFetcher(PayloadFetcher* fetcher) { fetcher_ = fetcher; }

  // Verifies and stores `request`. `done` is called exactly once: at once for
  // a rejection (401) or a store read failure (503), or from the committer
  // thread once the delivery is durable (200), found duplicate (200) or
  // failed to commit (503).
  void Handle(WebhookRequest request, Done done);

  const WebhookCounters& counters() const { return counters_; }

  // Called on the committer's thread after each stored (not duplicate)
  // delivery, with its connection id (empty for events without a user).
  using DeliveryObserver = std::function<void(std::string_view connection_id)>;

  // Sets the observer. REQUIRES: no request has arrived yet.
  void SetDeliveryObserver(DeliveryObserver observer) {
    observer_ = std::move(observer);
  }

 private:
  void LogRejection(const WebhookRequest& request, std::string_view reason);

  std::shared_ptr<const WebhookHandlerOptions> Options() const;
  void CountCommitted(const store::AppliedDelivery& applied);

  mutable std::mutex options_mutex_;
  std::shared_ptr<const WebhookHandlerOptions> options_;
  const store::DeliveryApplier* applier_;
  store::Committer* committer_;
  Clock clock_;
  ServiceMetrics* metrics_;
  PayloadFetcher* fetcher_ = nullptr;
  WebhookCounters counters_;
  DeliveryObserver observer_;
  LogRateLimiter rejection_log_;
};

// Parses X-Terra-Ordering-Timestamp (unix ms, decimal digits). Returns false
// if the value is empty or not a non-negative integer.
[[nodiscard]] bool ParseOrderingTimestamp(std::string_view text, int64_t* ms);

// Returns the ordering timestamp to apply: the header's value capped at the
// signed time (the header is not covered by the signature, so a forged value
// cannot push old data over new), or the signed time when the header is
// absent or invalid.
int64_t EffectiveOrderingMs(bool has_header, int64_t header_ms,
                            int64_t signed_at_s);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_WEBHOOK_HANDLER_H_
