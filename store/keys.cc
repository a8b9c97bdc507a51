#include "store/keys.h"

#include <chrono>
#include <cstddef>
#include <initializer_list>

namespace terra::store {
namespace {

constexpr char kSeparator = '\0';
constexpr size_t kMaxKeyComponentBytes = 1024;

std::string Join(std::initializer_list<std::string_view> components) {
  std::string key;
  bool first = true;
  for (std::string_view component : components) {
    if (!first) key.push_back(kSeparator);
    key.append(component);
    first = false;
  }
  return key;
}

// Splits `key` at each separator into exactly `count` components.
bool Split(std::string_view key, size_t count, std::string_view* out) {
  size_t index = 0;
  size_t begin = 0;
  while (index + 1 < count) {
    size_t end = key.find(kSeparator, begin);
    if (end == std::string_view::npos) return false;
    out[index++] = key.substr(begin, end - begin);
    begin = end + 1;
  }

  std::string_view last = key.substr(begin);
  if (last.find(kSeparator) != std::string_view::npos) return false;
  out[index] = last;
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool IsValidKeyComponent(std::string_view component) {
  return !component.empty() && component.size() <= kMaxKeyComponentBytes &&
         component.find(kSeparator) == std::string_view::npos;
}

std::string RecordKey(std::string_view connection, std::string_view type,
                      std::string_view natural_id) {
  return Join({connection, type, natural_id});
}

std::string RecordPrefix(std::string_view connection, std::string_view type) {
  std::string prefix =
      type.empty() ? std::string(connection) : Join({connection, type});
  prefix.push_back(kSeparator);
  return prefix;
}

bool ParseRecordKey(std::string_view key, RecordKeyParts* parts) {
  std::string_view components[3];
  if (!Split(key, 3, components)) return false;

  parts->connection = components[0];
  parts->type = components[1];
  parts->natural_id = components[2];
  return true;
}

std::string SessionIndexKey(std::string_view connection, std::string_view type,
                            std::string_view date,
                            std::string_view summary_id) {
  return Join({connection, type, date, summary_id});
}

std::string SessionIndexPrefix(std::string_view connection,
                               std::string_view type, std::string_view date) {
  std::string prefix =
      date.empty() ? Join({connection, type}) : Join({connection, type, date});
  prefix.push_back(kSeparator);
  return prefix;
}

bool ParseSessionIndexKey(std::string_view key, SessionIndexKeyParts* parts) {
  std::string_view components[4];
  if (!Split(key, 4, components)) return false;

  parts->connection = components[0];
  parts->type = components[1];
  parts->date = components[2];
  parts->summary_id = components[3];
  return true;
}

std::string EncodeSequenceKey(uint64_t sequence) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(sequence & 0xff);
    sequence >>= 8;
  }
  return key;
}

bool DecodeSequenceKey(std::string_view key, uint64_t* sequence) {
  if (key.size() != 8) return false;

  uint64_t value = 0;
  for (char c : key) value = (value << 8) | static_cast<unsigned char>(c);
  *sequence = value;
  return true;
}

bool IsCalendarDate(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;

  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (!IsDigit(date[i])) return false;
  }

  // A date that cannot exist (2026-13-45, 2026-02-30) would make a key no
  // date range ever selects as intended.
  auto number = [&](size_t at, size_t length) {
    int value = 0;
    for (size_t i = at; i < at + length; ++i) value = value * 10 + (date[i] - '0');
    return value;
  };
  std::chrono::year_month_day day{std::chrono::year(number(0, 4)),
                                  std::chrono::month(number(5, 2)),
                                  std::chrono::day(number(8, 2))};
  return day.ok() && number(0, 4) >= 1;
}

}  // namespace terra::store
