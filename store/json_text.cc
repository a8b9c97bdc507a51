#include "store/json_text.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace terra::store {
namespace {

namespace json = boost::json;

// Maximum length of a number's text. The shortest form std::to_chars writes
// for a double is at most 24 characters ("-2.2250738585072014e-308"), and
// the ".0" suffix adds two.
constexpr size_t kMaxNumberLength = 32;

// Maximum length of an escape sequence: \u00xx.
constexpr size_t kMaxEscapeLength = 6;

constexpr char kHexDigits[] = "0123456789abcdef";

// Bytes that JSON text cannot hold as they are: control characters, the
// quote and the backslash.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (size_t c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = true;
  table['\\'] = true;
  return table;
}();

bool NeedsEscape(char c) { return kNeedsEscape[static_cast<unsigned char>(c)]; }

// Appends to a std::string through its own cursor. The string is resized
// ahead of the cursor, so each piece is copied into place after one
// comparison instead of through std::string::append. The destructor cuts the
// string back to the written text, also when an allocation throws.
class Writer {
 public:
  explicit Writer(std::string* out)
      : out_(out), cursor_(out->data() + out->size()), end_(cursor_) {}
  ~Writer() { out_->resize(cursor_ - out_->data()); }

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Returns where to write at least `length` bytes. Advance commits them.
  char* Room(size_t length) {
    if (static_cast<size_t>(end_ - cursor_) < length) Grow(length);
    return cursor_;
  }

  void Advance(size_t length) { cursor_ += length; }

  void Put(char c) {
    *Room(1) = c;
    ++cursor_;
  }

  void Put(std::string_view text) {
    std::memcpy(Room(text.size()), text.data(), text.size());
    cursor_ += text.size();
  }

  // Writes a number's text: `format(first)` writes at most kMaxNumberLength
  // bytes at `first` and returns their end. The text goes in place when the
  // buffer has room, else to the stack and is then copied, so that a short
  // value such as a score does not make the string reserve more.
  template <typename Format>
  void PutFormatted(Format format) {
    if (static_cast<size_t>(end_ - cursor_) >= kMaxNumberLength) {
      cursor_ = format(cursor_);
      return;
    }
    char buffer[kMaxNumberLength];
    Put(std::string_view(buffer, format(buffer) - buffer));
  }

 private:
  // Doubles the buffer, or more if `length` needs it. Growing up to the
  // capacity already reserved costs no allocation, so a short text stays in
  // the string's own small buffer.
  void Grow(size_t length) {
    size_t used = cursor_ - out_->data();
    out_->resize(std::max({used + length, 2 * out_->size(), out_->capacity()}));
    cursor_ = out_->data() + used;
    end_ = out_->data() + out_->size();
  }

  std::string* out_;
  char* cursor_;
  char* end_;
};

template <typename Integer>
void WriteInteger(Integer value, Writer* writer) {
  writer->PutFormatted([value](char* first) {
    return std::to_chars(first, first + kMaxNumberLength, value).ptr;
  });
}

void WriteDouble(double value, Writer* writer) {
  if (!std::isfinite(value)) {
    writer->Put("null");
    return;
  }
  writer->PutFormatted([value](char* first) {
    char* last = std::to_chars(first, first + kMaxNumberLength, value).ptr;

    // Without a fraction or an exponent the text would read back as an
    // integer, and the value would change kind.
    if (std::find_if(first, last, [](char c) {
          return c == '.' || c == 'e' || c == 'E';
        }) == last) {
      *last++ = '.';
      *last++ = '0';
    }
    return last;
  });
}

uint64_t LoadWord(const char* bytes) {
  uint64_t word;
  std::memcpy(&word, bytes, sizeof(word));
  return word;
}

// Returns true if any of the eight bytes of `word` needs an escape. Each
// test is the "has a byte less than n" bit trick: subtracting n from every
// byte sets a byte's high bit where that byte was below n (or borrowed), and
// `& ~word` drops the bytes that had the high bit set already. The result is
// exact for the word as a whole, which is all the callers use.
bool HasEscapeByte(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHighBits = 0x8080808080808080;
  uint64_t quote = word ^ (kOnes * '"');
  uint64_t backslash = word ^ (kOnes * '\\');
  uint64_t control = (word - kOnes * 0x20) & ~word;
  uint64_t is_quote = (quote - kOnes) & ~quote;
  uint64_t is_backslash = (backslash - kOnes) & ~backslash;
  return ((control | is_quote | is_backslash) & kHighBits) != 0;
}

// Writes `text` in quotes if no byte of it needs an escape, checking and
// copying eight bytes at a time. For a text of eight bytes or more, the last
// word overlaps the one before it. Returns false, having committed nothing,
// if a byte needs an escape.
bool TryWritePlainString(std::string_view text, Writer* writer) {
  const size_t size = text.size();
  const char* in = text.data();
  char* out = writer->Room(size + 2);
  out[0] = '"';
  if (size >= sizeof(uint64_t)) {
    for (size_t i = 0; i + sizeof(uint64_t) <= size; i += sizeof(uint64_t)) {
      uint64_t word = LoadWord(in + i);
      if (HasEscapeByte(word)) return false;
      std::memcpy(out + 1 + i, &word, sizeof(word));
    }
    uint64_t last = LoadWord(in + size - sizeof(uint64_t));
    if (HasEscapeByte(last)) return false;
    std::memcpy(out + 1 + size - sizeof(uint64_t), &last, sizeof(last));
  } else {
    for (size_t i = 0; i < size; ++i) {
      if (NeedsEscape(in[i])) return false;
      out[1 + i] = in[i];
    }
  }
  out[size + 1] = '"';
  writer->Advance(size + 2);
  return true;
}

void WriteEscape(unsigned char c, Writer* writer) {
  switch (c) {
    case '"':
      writer->Put("\\\"");
      return;
    case '\\':
      writer->Put("\\\\");
      return;
    case '\b':
      writer->Put("\\b");
      return;
    case '\f':
      writer->Put("\\f");
      return;
    case '\n':
      writer->Put("\\n");
      return;
    case '\r':
      writer->Put("\\r");
      return;
    case '\t':
      writer->Put("\\t");
      return;
    default:
      break;
  }
  const char escape[kMaxEscapeLength] = {
      '\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xf]};
  writer->Put(std::string_view(escape, sizeof(escape)));
}

// Writes `text` in quotes with its escapes, copying the bytes between
// escapes as one piece per run.
void WriteString(std::string_view text, Writer* writer) {
  if (TryWritePlainString(text, writer)) return;

  writer->Put('"');
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!NeedsEscape(text[i])) continue;
    writer->Put(text.substr(run_start, i - run_start));
    WriteEscape(static_cast<unsigned char>(text[i]), writer);
    run_start = i + 1;
  }
  writer->Put(text.substr(run_start));
  writer->Put('"');
}

void WriteValue(const json::value& value, Writer* writer);

void WriteObject(const json::object& object, Writer* writer) {
  writer->Put('{');
  bool first = true;
  for (const json::key_value_pair& member : object) {
    if (!first) writer->Put(',');
    first = false;
    WriteString(member.key(), writer);
    writer->Put(':');
    WriteValue(member.value(), writer);
  }
  writer->Put('}');
}

void WriteArray(const json::array& array, Writer* writer) {
  writer->Put('[');
  bool first = true;
  for (const json::value& element : array) {
    if (!first) writer->Put(',');
    first = false;
    WriteValue(element, writer);
  }
  writer->Put(']');
}

void WriteValue(const json::value& value, Writer* writer) {
  switch (value.kind()) {
    case json::kind::null:
      writer->Put("null");
      return;
    case json::kind::bool_:
      writer->Put(value.get_bool() ? "true" : "false");
      return;
    case json::kind::int64:
      WriteInteger(value.get_int64(), writer);
      return;
    case json::kind::uint64:
      WriteInteger(value.get_uint64(), writer);
      return;
    case json::kind::double_:
      WriteDouble(value.get_double(), writer);
      return;
    case json::kind::string:
      WriteString(value.get_string(), writer);
      return;
    case json::kind::array:
      WriteArray(value.get_array(), writer);
      return;
    case json::kind::object:
      WriteObject(value.get_object(), writer);
      return;
  }
}

}  // namespace

void AppendJsonText(const json::value& value, std::string* out) {
  Writer writer(out);
  WriteValue(value, &writer);
}

void AppendJsonText(const json::object& object, std::string* out) {
  Writer writer(out);
  WriteObject(object, &writer);
}

std::string JsonText(const json::value& value, size_t size_hint) {
  std::string text;
  text.reserve(size_hint);
  AppendJsonText(value, &text);
  return text;
}

std::string JsonText(const json::object& object, size_t size_hint) {
  std::string text;
  text.reserve(size_hint);
  AppendJsonText(object, &text);
  return text;
}

}  // namespace terra::store
