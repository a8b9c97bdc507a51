// The capture format: one archived delivery as one JSON object, the line that
// `terra-syncctl dump deliveries` prints and `terra-syncctl replay --capture`
// reads back. Fields:
//
//   sequence            `deliveries` key in the store it came from
//   received_ms         unix ms when the daemon received it
//   source              "webhook", "backfill", "reconcile" or "replay"
//   trace_id            X-Terra-Trace-Id, or "sha256:<hex>" when it was absent
//   terra_reference     terra-reference header, may be ""
//   ordering_header_ms  X-Terra-Ordering-Timestamp as sent; absent if missing
//   signed_at_s         `t` of the verified signature
//   ordering_ms         ordering timestamp applied (header capped at `t`)
//   event_type, user_id, outcome, note, records
//                       what the store did with it
//   body                the body as received: the text itself when it is
//                       valid UTF-8, else its base64 encoding
//   body_encoding       "utf-8" or "base64"
//
// Only `body` is required when reading; every other field has a default.

#ifndef TERRA_TOOLS_CAPTURE_FORMAT_H_
#define TERRA_TOOLS_CAPTURE_FORMAT_H_

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "store/delivery_record.h"

namespace terra::tools {

// Renders `delivery` in the capture format.
boost::json::object DeliveryToCapture(const store::DeliveryRecord& delivery);

// Parses one capture line. On failure returns false and sets `*error` to what
// is wrong, for example "field received_ms is not an integer".
[[nodiscard]] bool ParseCaptureLine(std::string_view line,
                                    store::DeliveryRecord* delivery,
                                    std::string* error);

// Returns true if `bytes` is well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_CAPTURE_FORMAT_H_
