#include "tools/capture_format.h"

#include <openssl/evp.h>

#include <boost/json.hpp>
#include <limits>

namespace terra::tools {
namespace {

namespace json = boost::json;

constexpr std::string_view kUtf8 = "utf-8";
constexpr std::string_view kBase64 = "base64";

std::string EncodeBase64(std::string_view bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3), '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  text.resize(written > 0 ? static_cast<size_t>(written) : 0);
  return text;
}

bool DecodeBase64(std::string_view text, std::string* bytes) {
  // EVP_DecodeBlock takes "e===" as one byte, so the padding is checked
  // here: at most two `=`, and only at the end.
  size_t data_end = text.find_last_not_of('=') + 1;
  if (text.size() % 4 != 0 || text.size() - data_end > 2 ||
      text.find('=') < data_end) {
    return false;
  }
  bytes->assign(3 * (text.size() / 4), '\0');
  int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes->data()),
                      reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (written < 0) {
    return false;
  }
  // EVP_DecodeBlock counts the bytes that the padding stands for.
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && padding < 2;
       --i) {
    ++padding;
  }
  bytes->resize(static_cast<size_t>(written) - padding);
  return true;
}

// Reads an optional integer member into `*value`. Returns false, with the
// reason in `*error`, if it is present but not an integer from `min` to
// `max`.
bool ReadInteger(const json::object& object, std::string_view name,
                 int64_t min, int64_t max, int64_t* value,
                 std::string* error) {
  const json::value* member = object.if_contains(name);
  if (member == nullptr || member->is_null()) {
    return true;
  }
  if (!member->is_int64() && !member->is_uint64()) {
    *error = "field " + std::string(name) + " is not an integer";
    return false;
  }
  // The parser keeps every integer that fits in int64 as int64, so a uint64
  // is above any `max`.
  if (!member->is_int64() || member->get_int64() < min ||
      member->get_int64() > max) {
    *error = "field " + std::string(name) + " is " +
             json::serialize(*member) + ", outside " + std::to_string(min) +
             " to " + std::to_string(max);
    return false;
  }
  *value = member->get_int64();
  return true;
}

bool ReadString(const json::object& object, std::string_view name,
                std::string* value, std::string* error) {
  const json::value* member = object.if_contains(name);
  if (member == nullptr || member->is_null()) {
    return true;
  }
  if (!member->is_string()) {
    *error = "field " + std::string(name) + " is not a string";
    return false;
  }
  *value = std::string(member->get_string());
  return true;
}

bool ReadBody(const json::object& object, store::DeliveryRecord* delivery,
              std::string* error) {
  const json::value* body = object.if_contains("body");
  if (body == nullptr || !body->is_string()) {
    *error = "field body is missing or not a string";
    return false;
  }
  std::string encoding(kUtf8);
  if (!ReadString(object, "body_encoding", &encoding, error)) {
    return false;
  }
  if (encoding == kUtf8) {
    delivery->body = std::string(body->get_string());
    return true;
  }
  if (encoding == kBase64) {
    if (DecodeBase64(body->get_string(), &delivery->body)) {
      return true;
    }
    *error = "field body is not valid base64";
    return false;
  }
  *error = "field body_encoding is \"" + encoding +
           "\"; expected \"utf-8\" or \"base64\"";
  return false;
}

bool ReadEnums(const json::object& object, store::DeliveryRecord* delivery,
               std::string* error) {
  std::string source;
  std::string outcome;
  if (!ReadString(object, "source", &source, error) ||
      !ReadString(object, "outcome", &outcome, error)) {
    return false;
  }
  if (!source.empty() && !store::ParseSourceName(source, &delivery->source)) {
    *error = "field source \"" + source + "\" is not a known source";
    return false;
  }
  if (!outcome.empty() &&
      !store::ParseOutcomeName(outcome, &delivery->outcome)) {
    *error = "field outcome \"" + outcome + "\" is not a known outcome";
    return false;
  }
  return true;
}

}  // namespace

json::object DeliveryToCapture(const store::DeliveryRecord& delivery) {
  json::object line;
  line["sequence"] = delivery.sequence;
  line["received_ms"] = delivery.received_ms;
  line["source"] = store::SourceName(delivery.source);
  line["trace_id"] = delivery.trace_id;
  line["terra_reference"] = delivery.terra_reference;
  if (delivery.ordering_header_ms) {
    line["ordering_header_ms"] = *delivery.ordering_header_ms;
  }
  line["signed_at_s"] = delivery.signed_at_s;
  line["ordering_ms"] = delivery.ordering_ms;
  line["event_type"] = delivery.event_type;
  line["user_id"] = delivery.user_id;
  line["outcome"] = store::OutcomeName(delivery.outcome);
  line["note"] = delivery.note;
  line["records"] = delivery.records;

  bool text = IsValidUtf8(delivery.body);
  line["body"] = text ? delivery.body : EncodeBase64(delivery.body);
  line["body_encoding"] = text ? kUtf8 : kBase64;
  return line;
}

bool ParseCaptureLine(std::string_view line, store::DeliveryRecord* delivery,
                      std::string* error) {
  *delivery = store::DeliveryRecord();
  // Every field is copied out of the tree, so the tree can live in an arena
  // that is released at once.
  json::monotonic_resource arena;
  // `dump deliveries` copies header values that are not valid UTF-8, such as
  // a trace id, into the line as they are, so such lines must read back.
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  boost::system::error_code ec;
  json::value value = json::parse(line, ec, &arena, options);
  if (ec) {
    *error = "not valid JSON: " + ec.message();
    return false;
  }
  if (!value.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  const json::object& object = value.get_object();

  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t sequence = 0;
  int64_t records = 0;
  int64_t ordering_header_ms = -1;
  bool ok =
      ReadBody(object, delivery, error) && ReadEnums(object, delivery, error) &&
      ReadInteger(object, "sequence", 0, kMax, &sequence, error) &&
      ReadInteger(object, "received_ms", 0, kMax, &delivery->received_ms,
                  error) &&
      ReadInteger(object, "ordering_header_ms", 0, kMax, &ordering_header_ms,
                  error) &&
      ReadInteger(object, "signed_at_s", 0, kMax, &delivery->signed_at_s,
                  error) &&
      ReadInteger(object, "ordering_ms", 0, kMax, &delivery->ordering_ms,
                  error) &&
      ReadInteger(object, "records", 0, UINT32_MAX, &records, error) &&
      ReadString(object, "trace_id", &delivery->trace_id, error) &&
      ReadString(object, "terra_reference", &delivery->terra_reference,
                 error) &&
      ReadString(object, "event_type", &delivery->event_type, error) &&
      ReadString(object, "user_id", &delivery->user_id, error) &&
      ReadString(object, "note", &delivery->note, error);
  if (!ok) {
    return false;
  }
  delivery->sequence = static_cast<uint64_t>(sequence);
  delivery->records = static_cast<uint32_t>(records);
  if (ordering_header_ms >= 0) {
    delivery->ordering_header_ms = ordering_header_ms;
  }
  return true;
}

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    auto byte = [&](size_t at) { return static_cast<uint8_t>(bytes[at]); };
    uint8_t lead = byte(i);
    size_t length = 0;
    uint32_t code_point = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      code_point = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      code_point = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      code_point = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > bytes.size()) {
      return false;
    }
    for (size_t k = 1; k < length; ++k) {
      if ((byte(i + k) & 0xc0) != 0x80) {
        return false;
      }
      code_point = (code_point << 6) | (byte(i + k) & 0x3f);
    }

    // Reject overlong forms, surrogates and values past U+10FFFF.
    constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace terra::tools
