// Calendar dates of Terra's REST API and the windows a date range is split
// into. Dates are plain days (`std::chrono::sys_days`); Terra reads a plain
// date as midnight UTC and treats `end_date` as exclusive.

#ifndef TERRA_DAEMON_DATE_WINDOWS_H_
#define TERRA_DAEMON_DATE_WINDOWS_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace terra::daemon {

// A half-open range of days [start, end).
struct DateWindow {
  std::chrono::sys_days start;
  std::chrono::sys_days end;

  // Number of days the window covers, which is what Terra's rate limit
  // charges for a request over it.
  [[nodiscard]] int days() const { return (end - start).count(); }

  friend bool operator==(const DateWindow&, const DateWindow&) = default;
};

// Parses "YYYY-MM-DD". Returns false unless the text is exactly a valid
// calendar date in that form.
[[nodiscard]] bool ParseDate(std::string_view text, std::chrono::sys_days* day);

// Formats `day` as "YYYY-MM-DD".
[[nodiscard]] std::string FormatDate(std::chrono::sys_days day);

// Returns the UTC calendar day of `time`.
[[nodiscard]] std::chrono::sys_days UtcDay(
    std::chrono::system_clock::time_point time);

// Splits [start, end) into consecutive windows of at most `max_days` days
// that never cross a calendar month boundary, in date order. Returns no
// window when start >= end. REQUIRES: max_days >= 1.
[[nodiscard]] std::vector<DateWindow> SplitIntoWindows(
    std::chrono::sys_days start, std::chrono::sys_days end, int max_days);

// Splits `window` into two halves (the first one the shorter on odd
// lengths). REQUIRES: window.days() >= 2.
[[nodiscard]] std::vector<DateWindow> SplitInHalves(const DateWindow& window);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_DATE_WINDOWS_H_
