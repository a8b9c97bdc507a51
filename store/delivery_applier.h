// Turns one Terra payload into the store writes it implies. The daemon
// (webhooks and REST results) and terra-syncctl (offline replay) both apply
// payloads through this class, so a payload always lands the same way.
//
// Routing, by the body's `type`:
//   auth (status success)         connection active; backfill job queued
//   auth (status error),
//   auth_cancelled                attempt recorded; no connection
//   deauth, access_revoked        connection revoked; data kept
//   user_reauth                   new user id mapped to the old connection
//   connection_error              connection in error
//   permission_change             scopes updated
//   large_request_processing,
//   large_request_sending         expected chunks tracked per reference
//   processing, rate_limit_hit,
//   google_no_datasource,
//   healthcheck                   logged and counted (healthcheck time kept)
//   s3_payload                    archived; AppliedDelivery::payload_url
//                                 names what the caller fetches
//   data events (activity, sleep,
//   daily, body, nutrition,
//   menstruation, athlete, ...)   each item merged as a record
//   anything else                 archived
// A `user` object on any event creates its connection if it is unknown.

#ifndef TERRA_STORE_DELIVERY_APPLIER_H_
#define TERRA_STORE_DELIVERY_APPLIER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "store/committer.h"
#include "store/delivery_record.h"
#include "store/envelope.h"
#include "store/status.h"

namespace terra::store {

class Store;

// A payload and how it arrived. For webhooks the signature has already been
// verified; `ordering_ms` is already capped at the signed time.
struct Delivery {
  int64_t received_ms = 0;
  Source source = Source::kWebhook;
  std::string trace_id;  // empty: the applier uses "sha256:<hex of body>"
  std::string terra_reference;
  std::optional<int64_t> ordering_header_ms;
  int64_t signed_at_s = 0;
  int64_t ordering_ms = 0;
  std::string body;
};

// The writes of one delivery, ready for the committer, and what routing did.
struct AppliedDelivery {
  // Dedup entry, archived delivery and every write, with the delivery's open
  // sequence; dropping the request instead of submitting it closes that.
  CommitRequest request;
  uint64_t sequence = 0;  // `deliveries` key of this delivery
  std::string trace_id;   // the dedup key used
  std::string event_type;
  std::string user_id;
  std::string connection_id;
  Outcome outcome = Outcome::kStored;
  std::string note;
  uint32_t records = 0;
  bool backfill_queued = false;

  // For an `s3_payload` event: the URL of the payload and its `expires_in`
  // (seconds after the event, 0 when absent). The caller fetches it.
  std::string payload_url;
  int64_t payload_expires_in_s = 0;
};

struct ApplierOptions {
  // Maximum nesting depth of a JSON body; deeper bodies are quarantined.
  size_t json_max_depth = 64;

  // Days of history a queued backfill job requests.
  int backfill_days = 28;
};

// Thread safety: Apply may be called concurrently from any thread; it only
// reads the store (to resolve user ids) and builds a batch.
class DeliveryApplier {
 public:
  DeliveryApplier(Store* store, ApplierOptions options);

  // Builds the writes for `delivery`. Never fails on payload content: a body
  // that cannot be routed becomes a quarantined archive entry. Fails only if
  // the store cannot be read.
  [[nodiscard]] Status Apply(Delivery delivery, AppliedDelivery* applied) const;

 private:
  Store* store_;
  ApplierOptions options_;
};

}  // namespace terra::store

#endif  // TERRA_STORE_DELIVERY_APPLIER_H_
