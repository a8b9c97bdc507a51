#include "daemon/reconcile_schedule.h"

#include <boost/date_time/local_time/local_time.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace terra::daemon {
namespace {

namespace gregorian = boost::gregorian;
namespace local_time = boost::local_time;
namespace posix_time = boost::posix_time;
using std::chrono::system_clock;

constexpr char kDefaultZoneDirectory[] = "/usr/share/zoneinfo";
constexpr char kLocalTimeFile[] = "/etc/localtime";

// Days to look ahead for the next fire time: today's time may have passed,
// and a daylight-saving change can never move it by more than a day.
constexpr int kLookAheadDays = 3;

// Returns the POSIX TZ rule in the footer of a TZif version 2+ file: the
// text between the last two newlines. Empty when the file has none.
std::string ReadTzifFooter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {};
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::string content = bytes.str();
  if (content.size() < 2 || content.back() != '\n') {
    return {};
  }
  size_t previous = content.rfind('\n', content.size() - 2);
  if (previous == std::string::npos) {
    return {};
  }
  return content.substr(previous + 1, content.size() - previous - 2);
}

// Reads a zone abbreviation ("EST" or "<+03>") at `*position`.
bool SkipZoneName(const std::string& rule, size_t* position) {
  size_t start = *position;
  if (start < rule.size() && rule[start] == '<') {
    size_t end = rule.find('>', start);
    if (end == std::string::npos) {
      return false;
    }
    *position = end + 1;
    return true;
  }
  while (*position < rule.size() && std::isalpha(rule[*position]) != 0) {
    ++*position;
  }
  return *position - start >= 3;
}

// Reads a POSIX offset "[+-]hh[:mm[:ss]]" at `*position`, in seconds.
bool ReadOffset(const std::string& rule, size_t* position, int* seconds) {
  int sign = 1;
  if (*position < rule.size() &&
      (rule[*position] == '+' || rule[*position] == '-')) {
    sign = rule[*position] == '-' ? -1 : 1;
    ++*position;
  }
  int total = 0;
  for (int part = 0, scale = 3600; part < 3; ++part, scale /= 60) {
    if (part > 0) {
      if (*position >= rule.size() || rule[*position] != ':') {
        break;
      }
      ++*position;
    }
    int value = 0;
    const char* begin = rule.data() + *position;
    auto [end, error] =
        std::from_chars(begin, rule.data() + rule.size(), value);
    if (error != std::errc() || end == begin) {
      return false;
    }
    *position += end - begin;
    total += value * scale;
  }
  *seconds = sign * total;
  return true;
}

std::string FormatOffset(int seconds) {
  char text[16];
  int magnitude = std::abs(seconds);
  std::snprintf(text, sizeof(text), "%c%02d:%02d:%02d", seconds < 0 ? '-' : '+',
                magnitude / 3600, magnitude / 60 % 60, magnitude % 60);
  return text;
}

// Rewrites a POSIX TZ rule in the form Boost.DateTime reads. POSIX offsets
// count hours west of UTC ("EST5" is UTC-5) and the daylight offset is
// absolute, while Boost reads the standard offset east of UTC and the
// daylight offset as the difference ("EST-05EDT+01"). Names become STD and
// DST because Boost does not read the quoted form ("<+03>"). Returns an empty
// string when the rule is malformed.
std::string ToBoostRule(const std::string& rule) {
  size_t position = 0;
  int standard_west = 0;
  if (!SkipZoneName(rule, &position) ||
      !ReadOffset(rule, &position, &standard_west)) {
    return {};
  }
  std::string converted = "STD" + FormatOffset(-standard_west);
  if (position == rule.size()) {
    return converted;
  }

  if (!SkipZoneName(rule, &position)) {
    return {};
  }
  int daylight_west = standard_west - 3600;  // POSIX default: one hour ahead
  if (position < rule.size() && rule[position] != ',' &&
      !ReadOffset(rule, &position, &daylight_west)) {
    return {};
  }
  return converted + "DST" + FormatOffset(standard_west - daylight_west) +
         rule.substr(position);
}

bool LooksLikeZoneName(const std::string& name) {
  return name.find('/') != std::string::npos &&
         name.find("..") == std::string::npos;
}

std::string ResolveRule(const std::string& name) {
  if (name == "UTC" || name.empty()) {
    return "UTC0";
  }
  if (name == "localtime") {
    return ReadTzifFooter(kLocalTimeFile);
  }
  if (LooksLikeZoneName(name)) {
    const char* directory = std::getenv("TZDIR");
    std::string base = directory != nullptr && *directory != '\0'
                           ? directory
                           : kDefaultZoneDirectory;
    return ReadTzifFooter(base + "/" + name);
  }
  return name;
}

posix_time::ptime ToPtime(system_clock::time_point time) {
  auto seconds =
      std::chrono::floor<std::chrono::seconds>(time.time_since_epoch());
  return posix_time::from_time_t(static_cast<std::time_t>(seconds.count()));
}

system_clock::time_point FromPtime(const posix_time::ptime& time) {
  posix_time::time_duration since_epoch =
      time - posix_time::ptime(gregorian::date(1970, 1, 1));
  return system_clock::time_point(
      std::chrono::seconds(since_epoch.total_seconds()));
}

gregorian::date ToGregorian(std::chrono::sys_days day) {
  std::chrono::year_month_day date(day);
  return gregorian::date(static_cast<int>(date.year()),
                         static_cast<unsigned>(date.month()),
                         static_cast<unsigned>(date.day()));
}

}  // namespace

struct TimeZone::Rules {
  explicit Rules(const std::string& rule)
      : zone(new local_time::posix_time_zone(rule)) {}

  local_time::time_zone_ptr zone;
};

bool ParseTimeOfDay(const std::string& text, TimeOfDay* time) {
  if (text.size() != 5 || text[2] != ':') {
    return false;
  }
  int hour = 0;
  int minute = 0;
  auto [hour_end, hour_error] =
      std::from_chars(text.data(), text.data() + 2, hour);
  auto [minute_end, minute_error] =
      std::from_chars(text.data() + 3, text.data() + 5, minute);
  if (hour_error != std::errc() || hour_end != text.data() + 2 ||
      minute_error != std::errc() || minute_end != text.data() + 5 ||
      hour > 23 || minute > 59) {
    return false;
  }
  *time = {hour, minute};
  return true;
}

TimeZone::TimeZone() : rule_("UTC0"), zone_(std::make_shared<Rules>("UTC0")) {}

bool TimeZone::Load(const std::string& name, TimeZone* zone,
                    std::string* error) {
  std::string rule = ResolveRule(name);
  if (rule.empty()) {
    *error = "unknown time zone '" + name +
             "': use an IANA name such as Europe/London (with tzdata "
             "installed), UTC, or a POSIX TZ rule";
    return false;
  }

  std::string boost_rule = ToBoostRule(rule);
  if (boost_rule.empty()) {
    *error = "time zone '" + name + "' has the rule '" + rule +
             "', which is not a POSIX TZ rule";
    return false;
  }

  // Boost.DateTime reports a malformed rule by throwing; this runs while the
  // configuration is parsed, never on the event loop.
  try {
    zone->zone_ = std::make_shared<Rules>(boost_rule);
  } catch (const std::exception& e) {
    *error = "time zone '" + name + "' has the rule '" + rule +
             "', which cannot be parsed: " + e.what();
    return false;
  }
  zone->rule_ = rule;
  return true;
}

system_clock::time_point TimeZone::ToUtc(std::chrono::sys_days day,
                                         TimeOfDay time) const {
  gregorian::date date = ToGregorian(day);
  posix_time::time_duration wall(time.hour, time.minute, 0);
  const local_time::time_zone_ptr& zone = zone_->zone;
  posix_time::ptime standard =
      posix_time::ptime(date, wall) - zone->base_utc_offset();
  if (!zone->has_dst()) {
    return FromPtime(standard);
  }

  // Daylight-saving time applies, or the time occurs twice (the first
  // occurrence is still in daylight-saving time). A time in the gap is read
  // as standard time, which lands just past the jump.
  switch (local_time::local_date_time::check_dst(date, wall, zone)) {
    case boost::date_time::is_in_dst:
    case boost::date_time::ambiguous:
      return FromPtime(standard - zone->dst_offset());
    case boost::date_time::is_not_in_dst:
    case boost::date_time::invalid_time_label:
      break;
  }
  return FromPtime(standard);
}

std::chrono::sys_days TimeZone::LocalDay(system_clock::time_point time) const {
  local_time::local_date_time local(ToPtime(time), zone_->zone);
  gregorian::date date = local.local_time().date();
  return std::chrono::sys_days(std::chrono::year_month_day(
      std::chrono::year(date.year()),
      std::chrono::month(static_cast<unsigned>(date.month())),
      std::chrono::day(static_cast<unsigned>(date.day()))));
}

system_clock::time_point NextFireTime(system_clock::time_point now,
                                      TimeOfDay time, const TimeZone& zone) {
  std::chrono::sys_days today = zone.LocalDay(now);
  for (int offset = 0; offset < kLookAheadDays; ++offset) {
    system_clock::time_point candidate =
        zone.ToUtc(today + std::chrono::days(offset), time);
    if (candidate > now) {
      return candidate;
    }
  }
  return zone.ToUtc(today + std::chrono::days(kLookAheadDays), time);
}

}  // namespace terra::daemon
