// The record envelope: the value of every `records` entry and every merge
// operand written to it. It carries the item JSON as delivered plus what the
// merge operator needs to pick the latest copy without parsing that JSON.

#ifndef TERRA_STORE_ENVELOPE_H_
#define TERRA_STORE_ENVELOPE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace terra::store {

// Where a copy of a record came from.
enum class Source : uint8_t {
  kWebhook = 1,
  kBackfill = 2,
  kReconcile = 3,
  kReplay = 4,
};

// Returns "webhook", "backfill", "reconcile" or "replay".
std::string_view SourceName(Source source);

// Parses a name returned by SourceName. Returns false for anything else.
bool ParseSourceName(std::string_view name, Source* source);

// One `data_enrichment` value and the copy it came from.
struct EnrichmentValue {
  int64_t ordering_ms = 0;
  uint64_t sequence = 0;
  std::string json;  // serialized JSON value, never `null`

  friend bool operator==(const EnrichmentValue&,
                         const EnrichmentValue&) = default;
};

// A stored copy of one record. Copies are ordered by (ordering_ms, sequence);
// the greatest one wins a merge.
struct Envelope {
  int64_t ordering_ms = 0;  // unix ms: Terra's ordering timestamp, capped
  uint64_t sequence = 0;    // store-wide write sequence of this copy
  Source source = Source::kWebhook;
  uint64_t delivery = 0;  // `deliveries` sequence this copy came from
  std::string date;       // YYYY-MM-DD the record belongs to, or empty
  std::string item_json;  // the item as delivered, serialized JSON

  // For each key of the item's `data_enrichment` object, the non-null value
  // from the latest copy that had one. A fresh copy lists its own non-null
  // values; the merge operator keeps the latest per key, so a newer copy with
  // a null score never erases an older score.
  std::map<std::string, EnrichmentValue, std::less<>> enrichment;

  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// Serializes an envelope in the operand format described in envelope.cc.
std::string EncodeEnvelope(const Envelope& envelope);

// Serializes `envelope` with `item_json` as its item, ignoring
// envelope.item_json, so that a merge writes the winner's item without an
// extra copy.
std::string EncodeEnvelope(const Envelope& envelope,
                           std::string_view item_json);

// Parses bytes written by EncodeEnvelope. Returns false, leaving `envelope`
// unspecified, if the bytes are malformed or of an unknown version.
[[nodiscard]] bool DecodeEnvelope(std::string_view bytes, Envelope* envelope);

// Parses like DecodeEnvelope but leaves envelope->item_json empty and points
// `*item_json` at the item inside `bytes`, which must outlive it.
[[nodiscard]] bool DecodeEnvelopeView(std::string_view bytes,
                                      Envelope* envelope,
                                      std::string_view* item_json);

// Returns true if copy `a` is newer than copy `b` by (ordering_ms, sequence).
bool IsNewer(const Envelope& a, const Envelope& b);

// Turns `envelope->item_json` into the item as readers should see it: each
// `data_enrichment` key gets its value from `enrichment`. Leaves the text
// untouched when every entry came from this copy itself, which is the common
// case, so a reader pays for parsing only when an older score shows through.
// Returns false, leaving item_json unchanged, if it needs the overlay and is
// not a JSON object or an enrichment value is not valid JSON.
[[nodiscard]] bool MaterializeItem(Envelope* envelope);

}  // namespace terra::store

#endif  // TERRA_STORE_ENVELOPE_H_
