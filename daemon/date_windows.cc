#include "daemon/date_windows.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace terra::daemon {
namespace {

using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr size_t kDateLength = 10;  // "YYYY-MM-DD"

bool ParseNumber(std::string_view text, int* value) {
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

// The first day of the month after the month of `day`.
sys_days NextMonthStart(sys_days day) {
  year_month_day date(day);
  std::chrono::year_month next =
      std::chrono::year_month(date.year(), date.month()) +
      std::chrono::months(1);
  return sys_days(next / std::chrono::day(1));
}

}  // namespace

bool ParseDate(std::string_view text, sys_days* day) {
  if (text.size() != kDateLength || text[4] != '-' || text[7] != '-') {
    return false;
  }
  int year = 0;
  int month = 0;
  int day_of_month = 0;
  if (!ParseNumber(text.substr(0, 4), &year) ||
      !ParseNumber(text.substr(5, 2), &month) ||
      !ParseNumber(text.substr(8, 2), &day_of_month)) {
    return false;
  }
  year_month_day date{std::chrono::year(year),
                      std::chrono::month(static_cast<unsigned>(month)),
                      std::chrono::day(static_cast<unsigned>(day_of_month))};
  if (!date.ok()) {
    return false;
  }
  *day = sys_days(date);
  return true;
}

std::string FormatDate(sys_days day) {
  year_month_day date(day);
  char text[16];
  std::snprintf(
      text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

sys_days UtcDay(std::chrono::system_clock::time_point time) {
  return std::chrono::floor<std::chrono::days>(time);
}

std::vector<DateWindow> SplitIntoWindows(sys_days start, sys_days end,
                                         int max_days) {
  std::vector<DateWindow> windows;
  sys_days cursor = start;
  while (cursor < end) {
    sys_days limit = std::min(
        {cursor + std::chrono::days(max_days), NextMonthStart(cursor), end});
    windows.push_back({cursor, limit});
    cursor = limit;
  }
  return windows;
}

std::vector<DateWindow> SplitInHalves(const DateWindow& window) {
  sys_days middle = window.start + std::chrono::days(window.days() / 2);
  return {{window.start, middle}, {middle, window.end}};
}

}  // namespace terra::daemon
