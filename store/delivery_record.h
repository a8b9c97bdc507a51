// The archived form of one delivery, stored in the `deliveries` family under
// its sequence: when and how it arrived, the headers that matter, the raw
// body and what the store did with it. Replays read deliveries back from it.

#ifndef TERRA_STORE_DELIVERY_RECORD_H_
#define TERRA_STORE_DELIVERY_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/envelope.h"

namespace terra::store {

// What the store did with a delivery.
enum class Outcome : uint8_t {
  kStored = 1,       // data items written as records
  kRecorded = 2,     // lifecycle or operational event applied or logged
  kArchived = 3,     // unknown event type: kept, nothing applied
  kQuarantined = 4,  // signed but unusable: not JSON, or missing what routing
                     // needs; kept for inspection and replay
};

// Returns "stored", "recorded", "archived" or "quarantined".
std::string_view OutcomeName(Outcome outcome);

// Parses a name returned by OutcomeName.
bool ParseOutcomeName(std::string_view name, Outcome* outcome);

struct DeliveryRecord {
  uint64_t sequence = 0;
  int64_t received_ms = 0;
  Source source = Source::kWebhook;

  // Headers as received. `trace_id` is X-Terra-Trace-Id, or "sha256:<hex of
  // body>" when the header was missing.
  std::string trace_id;
  std::string terra_reference;
  std::optional<int64_t> ordering_header_ms;  // X-Terra-Ordering-Timestamp
  int64_t signed_at_s = 0;  // `t` of the verified signature, 0 for REST data
  int64_t ordering_ms = 0;  // the ordering timestamp applied, after capping

  // What routing found and did.
  std::string event_type;  // `type` of the body, empty if unreadable
  std::string user_id;     // `user.user_id`, empty if none
  Outcome outcome = Outcome::kStored;
  std::string note;        // why quarantined or archived, or a short summary
  uint32_t records = 0;    // records written

  std::string body;  // exactly as received
};

// Serializes a delivery record (format described in delivery_record.cc).
std::string EncodeDeliveryRecord(const DeliveryRecord& record);

// Parses bytes written by EncodeDeliveryRecord. Returns false if malformed.
[[nodiscard]] bool DecodeDeliveryRecord(std::string_view bytes,
                                        DeliveryRecord* record);

// Parses the metadata of bytes written by EncodeDeliveryRecord, leaving
// `record->body` untouched, for readers that skip the body. Returns false if
// malformed.
[[nodiscard]] bool DecodeDeliveryHeader(std::string_view bytes,
                                        DeliveryRecord* record);

}  // namespace terra::store

#endif  // TERRA_STORE_DELIVERY_RECORD_H_
