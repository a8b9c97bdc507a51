#include "tools/time_bounds.h"

#include <charconv>
#include <chrono>
#include <string_view>

#include "store/keys.h"

namespace terra::tools {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerDay = 86'400'000;

// "YYYY-MM-DDTHH:MM:SSZ": the date, 'T' at 10, the time at 11, 'Z' at 19.
constexpr size_t kDateLength = 10;
constexpr size_t kTimeOfDayLength = 8;
constexpr size_t kDateTimeLength = 20;

// Returns the two-digit number at `text[at]`, or -1 unless both characters
// are ASCII digits.
int ReadTwoDigits(std::string_view text, size_t at) {
  char high = text[at];
  char low = text[at + 1];
  if (high < '0' || high > '9' || low < '0' || low > '9') {
    return -1;
  }
  return (high - '0') * 10 + (low - '0');
}

// Returns the unix ms at which the UTC day `date` starts.
// REQUIRES: store::IsCalendarDate(date).
int64_t DayStartMs(std::string_view date) {
  int year = 0;
  std::from_chars(date.data(), date.data() + 4, year);
  std::chrono::year_month_day day{
      std::chrono::year(year),
      std::chrono::month(static_cast<unsigned>(ReadTwoDigits(date, 5))),
      std::chrono::day(static_cast<unsigned>(ReadTwoDigits(date, 8)))};
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::sys_days(day).time_since_epoch())
      .count();
}

// Returns the seconds since midnight of "HH:MM:SS", or nullopt unless it is
// a time from 00:00:00 to 23:59:59. Unix time has no leap seconds, so
// 23:59:60 is rejected too.
std::optional<int64_t> ParseSecondOfDay(std::string_view text) {
  if (text.size() != kTimeOfDayLength || text[2] != ':' || text[5] != ':') {
    return std::nullopt;
  }
  int hour = ReadTwoDigits(text, 0);
  int minute = ReadTwoDigits(text, 3);
  int second = ReadTwoDigits(text, 6);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
      second > 59) {
    return std::nullopt;
  }
  return hour * 3600 + minute * 60 + second;
}

}  // namespace

std::optional<int64_t> ParseTimeBound(const std::string& text, BoundEnd end) {
  std::string_view view = text;
  if (store::IsCalendarDate(view)) {
    int64_t start_ms = DayStartMs(view);
    return end == BoundEnd::kStart ? start_ms : start_ms + kMsPerDay - 1;
  }

  // Every character is checked, so no sign, space or one-digit field passes.
  std::string_view date = view.substr(0, kDateLength);
  if (view.size() != kDateTimeLength || view[kDateLength] != 'T' ||
      view.back() != 'Z' || !store::IsCalendarDate(date)) {
    return std::nullopt;
  }
  std::optional<int64_t> second =
      ParseSecondOfDay(view.substr(kDateLength + 1, kTimeOfDayLength));
  if (!second) {
    return std::nullopt;
  }
  int64_t start_ms = DayStartMs(date) + *second * kMsPerSecond;
  return end == BoundEnd::kStart ? start_ms : start_ms + kMsPerSecond - 1;
}

}  // namespace terra::tools
