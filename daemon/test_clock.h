// The wall clock of the REST side (reconciliation schedule, silence
// detection, job dates). Tests replace it with a clock read from a file, so
// that they can make the daemon believe that nights have passed without
// waiting for them.

#ifndef TERRA_DAEMON_TEST_CLOCK_H_
#define TERRA_DAEMON_TEST_CLOCK_H_

#include <chrono>
#include <functional>
#include <string>

namespace terra::daemon {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

// Returns the system clock when `file` is empty. Otherwise returns a clock
// that reads `file` at every call: its text is unix time in seconds. While
// the file is missing or unreadable the clock falls back to the system
// clock, so a test can create it after the daemon starts.
[[nodiscard]] WallClock MakeWallClock(const std::string& file);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_TEST_CLOCK_H_
