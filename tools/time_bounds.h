// Parsing of the time bounds that `dump deliveries` and `replay` take for
// the received time of deliveries.

#ifndef TERRA_TOOLS_TIME_BOUNDS_H_
#define TERRA_TOOLS_TIME_BOUNDS_H_

#include <cstdint>
#include <optional>
#include <string>

namespace terra::tools {

// Which end of a range a bound closes; a date covers its whole UTC day.
enum class BoundEnd { kStart, kEnd };

// Parses "YYYY-MM-DD" (a UTC day) or "YYYY-MM-DDTHH:MM:SSZ" into unix ms.
// For kEnd the result is the last millisecond the text covers, so that both
// bounds are inclusive. Returns nullopt unless the text has exactly one of
// these forms, with two-digit fields and no spaces, and names a day of the
// calendar and a time from 00:00:00 to 23:59:59. So 2026-02-30 is rejected,
// not moved to March.
[[nodiscard]] std::optional<int64_t> ParseTimeBound(const std::string& text,
                                                    BoundEnd end);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_TIME_BOUNDS_H_
