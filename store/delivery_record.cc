// Format of a `deliveries` value (version 1):
//
//   byte 0        format version, 1
//   bytes 1..4    N, the length of the header as a 32-bit big-endian integer
//   next N bytes  header: a JSON object with the metadata fields
//                 {"sequence", "received_ms", "source" (SourceName),
//                  "trace_id", "terra_reference", "ordering_header_ms"
//                  (absent when the header was missing), "signed_at_s",
//                  "ordering_ms", "event_type", "user_id",
//                  "outcome" (OutcomeName), "note", "records"}
//   the rest      the body, byte for byte as received
//
// The body stays outside the JSON header so that it is kept verbatim, even
// when it is not valid UTF-8 or not JSON at all.

#include "store/delivery_record.h"

#include <array>
#include <boost/json.hpp>
#include <cstddef>

namespace terra::store {
namespace {

constexpr uint8_t kDeliveryRecordVersion = 1;
constexpr size_t kLengthBytes = 4;

void AppendBigEndian32(uint32_t value, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint32_t ReadBigEndian32(std::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < kLengthBytes; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

// Splits a delivery record into its JSON header and its body. Returns false
// if the version byte or the header length is wrong.
bool SplitDeliveryRecord(std::string_view bytes, std::string_view* header,
                         std::string_view* body) {
  if (bytes.size() < 1 + kLengthBytes ||
      static_cast<uint8_t>(bytes[0]) != kDeliveryRecordVersion) {
    return false;
  }
  uint32_t header_size = ReadBigEndian32(bytes.substr(1, kLengthBytes));
  std::string_view rest = bytes.substr(1 + kLengthBytes);
  if (header_size > rest.size()) {
    return false;
  }
  *header = rest.substr(0, header_size);
  *body = rest.substr(header_size);
  return true;
}

boost::json::object HeaderToJson(const DeliveryRecord& record) {
  boost::json::object header;
  header["sequence"] = record.sequence;
  header["received_ms"] = record.received_ms;
  header["source"] = SourceName(record.source);
  header["trace_id"] = record.trace_id;
  header["terra_reference"] = record.terra_reference;
  if (record.ordering_header_ms) {
    header["ordering_header_ms"] = *record.ordering_header_ms;
  }
  header["signed_at_s"] = record.signed_at_s;
  header["ordering_ms"] = record.ordering_ms;
  header["event_type"] = record.event_type;
  header["user_id"] = record.user_id;
  header["outcome"] = OutcomeName(record.outcome);
  header["note"] = record.note;
  header["records"] = record.records;
  return header;
}

// Reads an integer member into `*out`. Returns false if it is missing or not
// an integer that fits.
template <typename T>
bool ReadInteger(const boost::json::object& header, std::string_view name,
                 T* out) {
  const boost::json::value* value = header.if_contains(name);
  if (value == nullptr) {
    return false;
  }
  boost::system::error_code ec;
  T number = value->to_number<T>(ec);
  if (ec || !(value->is_int64() || value->is_uint64())) {
    return false;
  }
  *out = number;
  return true;
}

bool ReadString(const boost::json::object& header, std::string_view name,
                std::string* out) {
  const boost::json::value* value = header.if_contains(name);
  if (value == nullptr || !value->is_string()) {
    return false;
  }
  *out = std::string(value->get_string());
  return true;
}

bool HeaderFromJson(const boost::json::object& header, DeliveryRecord* record) {
  std::string source;
  std::string outcome;
  bool ok = ReadInteger(header, "sequence", &record->sequence) &&
            ReadInteger(header, "received_ms", &record->received_ms) &&
            ReadString(header, "source", &source) &&
            ParseSourceName(source, &record->source) &&
            ReadString(header, "trace_id", &record->trace_id) &&
            ReadString(header, "terra_reference", &record->terra_reference) &&
            ReadInteger(header, "signed_at_s", &record->signed_at_s) &&
            ReadInteger(header, "ordering_ms", &record->ordering_ms) &&
            ReadString(header, "event_type", &record->event_type) &&
            ReadString(header, "user_id", &record->user_id) &&
            ReadString(header, "outcome", &outcome) &&
            ParseOutcomeName(outcome, &record->outcome) &&
            ReadString(header, "note", &record->note) &&
            ReadInteger(header, "records", &record->records);
  if (!ok) {
    return false;
  }

  record->ordering_header_ms.reset();
  if (header.contains("ordering_header_ms")) {
    int64_t ordering_header_ms = 0;
    if (!ReadInteger(header, "ordering_header_ms", &ordering_header_ms)) {
      return false;
    }
    record->ordering_header_ms = ordering_header_ms;
  }
  return true;
}

// Parses the JSON header of a delivery record into `record`.
bool DecodeHeaderBytes(std::string_view header_bytes, DeliveryRecord* record) {
  // Header values are stored as received, and a sender may put bytes that
  // are not UTF-8 in a trace id, which must not make the archive unreadable.
  boost::json::parse_options header_options;
  header_options.allow_invalid_utf8 = true;
  boost::system::error_code ec;
  boost::json::value header =
      boost::json::parse(header_bytes, ec, {}, header_options);
  if (ec || !header.is_object()) {
    return false;
  }
  return HeaderFromJson(header.get_object(), record);
}

constexpr std::array<std::pair<Outcome, std::string_view>, 4> kOutcomeNames = {{
    {Outcome::kStored, "stored"},
    {Outcome::kRecorded, "recorded"},
    {Outcome::kArchived, "archived"},
    {Outcome::kQuarantined, "quarantined"},
}};

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  for (const auto& [value, name] : kOutcomeNames) {
    if (value == outcome) {
      return name;
    }
  }
  return "unknown";
}

bool ParseOutcomeName(std::string_view name, Outcome* outcome) {
  for (const auto& [value, known] : kOutcomeNames) {
    if (known == name) {
      *outcome = value;
      return true;
    }
  }
  return false;
}

std::string EncodeDeliveryRecord(const DeliveryRecord& record) {
  std::string header = boost::json::serialize(HeaderToJson(record));

  std::string bytes;
  bytes.reserve(1 + kLengthBytes + header.size() + record.body.size());
  bytes.push_back(static_cast<char>(kDeliveryRecordVersion));
  AppendBigEndian32(static_cast<uint32_t>(header.size()), &bytes);
  bytes += header;
  bytes += record.body;
  return bytes;
}

bool DecodeDeliveryHeader(std::string_view bytes, DeliveryRecord* record) {
  std::string_view header_bytes;
  std::string_view body;
  return SplitDeliveryRecord(bytes, &header_bytes, &body) &&
         DecodeHeaderBytes(header_bytes, record);
}

bool DecodeDeliveryRecord(std::string_view bytes, DeliveryRecord* record) {
  std::string_view header_bytes;
  std::string_view body;
  if (!SplitDeliveryRecord(bytes, &header_bytes, &body) ||
      !DecodeHeaderBytes(header_bytes, record)) {
    return false;
  }
  record->body = std::string(body);
  return true;
}

}  // namespace terra::store
