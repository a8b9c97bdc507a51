#include "tools/json_line.h"

#include <array>
#include <charconv>

namespace terra::tools {
namespace {

// Appends the decimal text of `value`.
template <typename Integer>
void AppendNumber(Integer value, std::string* text) {
  std::array<char, 24> digits;
  auto [end, error] =
      std::to_chars(digits.data(), digits.data() + digits.size(), value);
  text->append(digits.data(), end);
}

// Returns true if `value` contains no quote, backslash or control character,
// the only bytes that the serializer escapes, so it can be copied as it is.
bool NeedsNoEscape(std::string_view value) {
  for (char c : value) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
  }
  return true;
}

}  // namespace

void JsonLine::Clear() {
  text_.assign(1, '{');
}

void JsonLine::AddString(std::string_view name, std::string_view value) {
  AddName(name);
  AppendString(value);
}

void JsonLine::AddInteger(std::string_view name, int64_t value) {
  AddName(name);
  AppendNumber(value, &text_);
}

void JsonLine::AddUnsigned(std::string_view name, uint64_t value) {
  AddName(name);
  AppendNumber(value, &text_);
}

void JsonLine::AddRaw(std::string_view name, std::string_view raw_json) {
  AddName(name);
  text_ += raw_json;
}

std::string_view JsonLine::Finish() {
  text_ += '}';
  return text_;
}

void JsonLine::AddName(std::string_view name) {
  if (text_.size() > 1) {
    text_ += ',';
  }
  AppendString(name);
  text_ += ':';
}

void JsonLine::AppendString(std::string_view value) {
  // Ids, types, dates and member names are plain text, so most strings skip
  // the serializer.
  if (NeedsNoEscape(value)) {
    text_ += '"';
    text_ += value;
    text_ += '"';
    return;
  }

  // The serializer writes the quotes and the escapes. A long string takes
  // several reads of one chunk each.
  serializer_.reset(boost::json::string_view(value.data(), value.size()));
  std::array<char, 256> chunk;
  while (!serializer_.done()) {
    boost::json::string_view part =
        serializer_.read(chunk.data(), chunk.size());
    text_.append(part.data(), part.size());
  }
}

}  // namespace terra::tools
