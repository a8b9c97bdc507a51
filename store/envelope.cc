// Operand format, version 1. Every `records` value and merge operand is:
//
//   byte      version             1
//   fixed64   ordering_ms         int64, two's complement
//   fixed64   sequence
//   byte      source              a Source value, 1 to 4
//   fixed64   delivery
//   varint    date length, then the date bytes (may be empty)
//   varint    count of enrichment entries, then for each entry in strictly
//             increasing key order:
//     varint    key length, then the key bytes
//     fixed64   ordering_ms
//     fixed64   sequence
//     varint    JSON length, then the serialized JSON value (never empty)
//   varint    item JSON length, then the item JSON bytes
//
// fixed64 is eight bytes little-endian; varint is unsigned LEB128 of at most
// ten bytes. The encoding ends exactly after the item JSON, so a truncated or
// padded operand is rejected. Decoding does not parse JSON, so the merge
// operator stays cheap and a bad item cannot make a merge fail.

#include "store/envelope.h"

#include <boost/json.hpp>

#include "store/json_parse.h"
#include "store/json_text.h"

namespace terra::store {
namespace {

constexpr uint8_t kEnvelopeVersion = 1;
constexpr int kMaxVarintBytes = 10;

// Nesting limit for stored items and scores. They passed the applier's
// configured limit when they arrived, which is at most kMaxJsonDepth, so
// reading them back must accept that much.
constexpr size_t kStoredJsonMaxDepth = kMaxJsonDepth;

void PutFixed64(std::string* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    out->push_back(static_cast<char>(value & 0xff));
    value >>= 8;
  }
}

void PutVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void PutLengthPrefixed(std::string* out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out->append(bytes);
}

// Consumes fields from the front of its input. Each getter returns false if
// the input ends before the field does or the field is out of range.
class Reader {
 public:
  explicit Reader(std::string_view input) : input_(input) {}

  bool GetByte(uint8_t* value) {
    if (input_.empty()) return false;
    *value = static_cast<uint8_t>(input_.front());
    input_.remove_prefix(1);
    return true;
  }

  bool GetFixed64(uint64_t* value) {
    if (input_.size() < 8) return false;
    uint64_t result = 0;
    for (int i = 7; i >= 0; --i) {
      result = (result << 8) | static_cast<uint8_t>(input_[i]);
    }
    input_.remove_prefix(8);
    *value = result;
    return true;
  }

  bool GetInt64(int64_t* value) {
    uint64_t raw = 0;
    if (!GetFixed64(&raw)) return false;
    *value = static_cast<int64_t>(raw);
    return true;
  }

  bool GetVarint(uint64_t* value) {
    uint64_t result = 0;
    for (int i = 0; i < kMaxVarintBytes && !input_.empty(); ++i) {
      uint8_t byte = static_cast<uint8_t>(input_.front());
      input_.remove_prefix(1);
      result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) {
        *value = result;
        return true;
      }
    }
    return false;
  }

  bool GetLengthPrefixed(std::string_view* bytes) {
    uint64_t length = 0;
    if (!GetVarint(&length) || length > input_.size()) return false;
    *bytes = input_.substr(0, length);
    input_.remove_prefix(length);
    return true;
  }

  bool AtEnd() const { return input_.empty(); }

 private:
  std::string_view input_;
};

bool IsKnownSource(uint8_t value) {
  return value >= static_cast<uint8_t>(Source::kWebhook) &&
         value <= static_cast<uint8_t>(Source::kReplay);
}

bool DecodeHeader(Reader* reader, Envelope* envelope) {
  uint8_t version = 0;
  uint8_t source = 0;
  std::string_view date;
  if (!reader->GetByte(&version) || version != kEnvelopeVersion) return false;
  if (!reader->GetInt64(&envelope->ordering_ms) ||
      !reader->GetFixed64(&envelope->sequence) || !reader->GetByte(&source) ||
      !IsKnownSource(source) || !reader->GetFixed64(&envelope->delivery) ||
      !reader->GetLengthPrefixed(&date)) {
    return false;
  }
  envelope->source = static_cast<Source>(source);
  envelope->date.assign(date);
  return true;
}

bool DecodeEnrichment(Reader* reader, Envelope* envelope) {
  uint64_t count = 0;
  if (!reader->GetVarint(&count)) return false;

  envelope->enrichment.clear();
  std::string_view previous_key;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view key;
    std::string_view json;
    EnrichmentValue value;
    if (!reader->GetLengthPrefixed(&key) ||
        !reader->GetInt64(&value.ordering_ms) ||
        !reader->GetFixed64(&value.sequence) ||
        !reader->GetLengthPrefixed(&json) || json.empty()) {
      return false;
    }
    // Strictly increasing keys keep the encoding canonical and rule out
    // duplicates.
    if (i > 0 && key <= previous_key) return false;
    previous_key = key;
    value.json.assign(json);
    envelope->enrichment.emplace_hint(envelope->enrichment.end(), key,
                                      std::move(value));
  }
  return true;
}

// Overlays the envelope's enrichment onto `item` in place. Returns false if
// every value equals what `item` already contains.
bool OverlayEnrichment(const Envelope& envelope, boost::json::object* item,
                       bool* ok) {
  boost::json::value* target = item->if_contains("data_enrichment");
  bool changed = false;
  for (const auto& [key, enrichment] : envelope.enrichment) {
    boost::system::error_code error;
    boost::json::value value =
        ParseJson(enrichment.json, error, {}, kStoredJsonMaxDepth);
    if (error) {
      *ok = false;
      continue;
    }

    boost::json::object* object =
        target != nullptr ? target->if_object() : nullptr;
    if (object == nullptr) {
      // An absent, null or non-object data_enrichment gets a fresh object.
      target = &(*item)["data_enrichment"];
      *target = boost::json::object();
      object = &target->as_object();
    }
    const boost::json::value* current = object->if_contains(key);
    if (current != nullptr && *current == value) continue;
    (*object)[key] = std::move(value);
    changed = true;
  }
  return changed;
}

}  // namespace

std::string_view SourceName(Source source) {
  switch (source) {
    case Source::kWebhook:
      return "webhook";
    case Source::kBackfill:
      return "backfill";
    case Source::kReconcile:
      return "reconcile";
    case Source::kReplay:
      return "replay";
  }
  return "unknown";
}

bool ParseSourceName(std::string_view name, Source* source) {
  for (Source candidate : {Source::kWebhook, Source::kBackfill,
                           Source::kReconcile, Source::kReplay}) {
    if (name == SourceName(candidate)) {
      *source = candidate;
      return true;
    }
  }
  return false;
}

std::string EncodeEnvelope(const Envelope& envelope) {
  return EncodeEnvelope(envelope, envelope.item_json);
}

std::string EncodeEnvelope(const Envelope& envelope,
                           std::string_view item_json) {
  std::string out;
  size_t enrichment_size = 0;
  for (const auto& [key, value] : envelope.enrichment) {
    enrichment_size += 32 + key.size() + value.json.size();
  }
  out.reserve(64 + envelope.date.size() + enrichment_size + item_json.size());
  out.push_back(static_cast<char>(kEnvelopeVersion));
  PutFixed64(&out, static_cast<uint64_t>(envelope.ordering_ms));
  PutFixed64(&out, envelope.sequence);
  out.push_back(static_cast<char>(envelope.source));
  PutFixed64(&out, envelope.delivery);
  PutLengthPrefixed(&out, envelope.date);

  PutVarint(&out, envelope.enrichment.size());
  for (const auto& [key, value] : envelope.enrichment) {
    PutLengthPrefixed(&out, key);
    PutFixed64(&out, static_cast<uint64_t>(value.ordering_ms));
    PutFixed64(&out, value.sequence);
    PutLengthPrefixed(&out, value.json);
  }

  PutLengthPrefixed(&out, item_json);
  return out;
}

bool DecodeEnvelope(std::string_view bytes, Envelope* envelope) {
  std::string_view item_json;
  if (!DecodeEnvelopeView(bytes, envelope, &item_json)) return false;
  envelope->item_json.assign(item_json);
  return true;
}

bool DecodeEnvelopeView(std::string_view bytes, Envelope* envelope,
                        std::string_view* item_json) {
  Reader reader(bytes);
  envelope->item_json.clear();
  return DecodeHeader(&reader, envelope) &&
         DecodeEnrichment(&reader, envelope) &&
         reader.GetLengthPrefixed(item_json) && reader.AtEnd();
}

bool IsNewer(const Envelope& a, const Envelope& b) {
  if (a.ordering_ms != b.ordering_ms) return a.ordering_ms > b.ordering_ms;
  return a.sequence > b.sequence;
}

bool MaterializeItem(Envelope* envelope) {
  // An entry from the winning copy itself holds the value the item already
  // has, so only entries from older copies need the item parsed.
  bool needs_overlay = false;
  for (const auto& [key, value] : envelope->enrichment) {
    if (value.ordering_ms != envelope->ordering_ms ||
        value.sequence != envelope->sequence) {
      needs_overlay = true;
      break;
    }
  }
  if (!needs_overlay) return true;

  boost::system::error_code error;
  boost::json::value item =
      ParseJson(envelope->item_json, error, {}, kStoredJsonMaxDepth);
  if (error || !item.is_object()) return false;
  bool ok = true;
  if (OverlayEnrichment(*envelope, &item.as_object(), &ok) && ok) {
    envelope->item_json = JsonText(item, envelope->item_json.size());
  }
  return ok;
}

}  // namespace terra::store
