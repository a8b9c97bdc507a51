#include "tools/time_bounds.h"

#include <time.h>

#include "store/keys.h"

namespace terra::tools {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerDay = 86'400'000;

// Parses `text` with strptime `format`, which must consume all of it.
std::optional<int64_t> ParseUtcSeconds(const std::string& text,
                                       const char* format) {
  struct tm fields {};
  const char* end = strptime(text.c_str(), format, &fields);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&fields));
}

}  // namespace

std::optional<int64_t> ParseTimeBound(const std::string& text, BoundEnd end) {
  if (store::IsCalendarDate(text)) {
    std::optional<int64_t> seconds = ParseUtcSeconds(text, "%Y-%m-%d");
    if (!seconds) return std::nullopt;
    int64_t start_ms = *seconds * kMsPerSecond;
    return end == BoundEnd::kStart ? start_ms : start_ms + kMsPerDay - 1;
  }
  std::optional<int64_t> seconds = ParseUtcSeconds(text, "%Y-%m-%dT%H:%M:%SZ");
  if (!seconds) return std::nullopt;
  int64_t start_ms = *seconds * kMsPerSecond;
  return end == BoundEnd::kStart ? start_ms : start_ms + kMsPerSecond - 1;
}

}  // namespace terra::tools
