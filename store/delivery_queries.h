// Read-side queries over the archived deliveries (`deliveries` family), shared
// by `terra-syncctl dump deliveries` and `terra-syncctl replay`. Results stream
// through callbacks in sequence order; nothing buffers a whole result.

#ifndef TERRA_STORE_DELIVERY_QUERIES_H_
#define TERRA_STORE_DELIVERY_QUERIES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "store/delivery_record.h"
#include "store/status.h"

namespace terra::store {

class Store;

// Filter for ForEachDelivery. Empty or absent fields match everything.
struct DeliveryFilter {
  std::optional<int64_t> received_from_ms;  // unix ms, inclusive
  std::optional<int64_t> received_to_ms;    // unix ms, inclusive
  std::string trace_id;         // exact dedup key, for example "abc:chunk:2"
  std::string terra_reference;  // exact terra-reference header
  std::string event_type;       // exact `type` of the body
  std::optional<Outcome> outcome;
  uint64_t after_sequence = 0;  // only deliveries with a greater sequence
};

// Calls `visit` for each archived delivery that matches `filter`, in sequence
// order; stops early when it returns false. A value that does not decode is
// reported through `on_malformed` (when given) with its sequence and skipped.
// A trace id filter is answered through the `dedup` family with one lookup.
[[nodiscard]] Status ForEachDelivery(
    const Store& store, const DeliveryFilter& filter,
    const std::function<bool(const DeliveryRecord& delivery)>& visit,
    const std::function<void(uint64_t sequence)>& on_malformed = {});

// Sets `*watermark` to the delivery watermark (meta delivery_watermark):
// every delivery with a sequence at or below it is committed or never will
// be. Sets nullopt when the store has none, because no build that writes it
// has committed to the store. Fails with Corruption on a value that is not a
// decimal number.
[[nodiscard]] Status ReadDeliveryWatermark(const Store& store,
                                           std::optional<uint64_t>* watermark);

// Sets `*sequence` to the greatest sequence key of the `deliveries` family,
// or 0 when it has none. Keys that are not sequence numbers are passed over:
// readers report them where they meet them.
[[nodiscard]] Status LastDeliverySequence(const Store& store,
                                          uint64_t* sequence);

}  // namespace terra::store

#endif  // TERRA_STORE_DELIVERY_QUERIES_H_
