// When the nightly reconciliation fires: the next instant at which the wall
// clock of a time zone shows a given time of day. Time zones are POSIX TZ
// rules (Boost.DateTime), read from the footer of a compiled zoneinfo file
// for IANA names such as "Europe/London".

#ifndef TERRA_DAEMON_RECONCILE_SCHEDULE_H_
#define TERRA_DAEMON_RECONCILE_SCHEDULE_H_

#include <chrono>
#include <memory>
#include <string>

namespace terra::daemon {

// A wall-clock time of day.
struct TimeOfDay {
  int hour = 0;    // 0-23
  int minute = 0;  // 0-59
};

// Parses "HH:MM" (24-hour clock). Returns false on any other text.
[[nodiscard]] bool ParseTimeOfDay(const std::string& text, TimeOfDay* time);

// A time zone's UTC offset rules. Copyable and immutable; safe to share
// between threads.
class TimeZone {
 public:
  // UTC, without daylight-saving time.
  TimeZone();

  // Loads `name`: "UTC", "localtime" (/etc/localtime), an IANA name resolved
  // under $TZDIR or /usr/share/zoneinfo, or a POSIX TZ rule such as
  // "EST5EDT,M3.2.0,M11.1.0". Returns false with `error` naming the zone
  // when it is unknown or its rule cannot be parsed.
  [[nodiscard]] static bool Load(const std::string& name, TimeZone* zone,
                                 std::string* error);

  // The POSIX TZ rule in use, for logs.
  const std::string& rule() const { return rule_; }

  // Returns the UTC instant at which the wall clock shows `time` on the
  // local date `day`. A time skipped by a daylight-saving change maps to
  // the instant the clock jumps past it; a time that occurs twice maps to
  // its first occurrence.
  [[nodiscard]] std::chrono::system_clock::time_point ToUtc(
      std::chrono::sys_days day, TimeOfDay time) const;

  // Returns the local calendar date at the UTC instant `time`.
  [[nodiscard]] std::chrono::sys_days LocalDay(
      std::chrono::system_clock::time_point time) const;

 private:
  struct Rules;  // the parsed Boost.DateTime zone

  std::string rule_;
  std::shared_ptr<const Rules> zone_;
};

// Returns the first instant strictly after `now` at which the wall clock of
// `zone` shows `time`.
[[nodiscard]] std::chrono::system_clock::time_point NextFireTime(
    std::chrono::system_clock::time_point now, TimeOfDay time,
    const TimeZone& zone);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_RECONCILE_SCHEDULE_H_
