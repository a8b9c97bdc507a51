// Logging set-up for terra-syncd, and a limiter for lines that an attacker or
// a misconfigured sender can repeat at will (rejected requests).

#ifndef TERRA_DAEMON_LOGGING_H_
#define TERRA_DAEMON_LOGGING_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace terra::daemon {

// Sets up spdlog's default logger on stderr at `level` (trace ... critical).
// Under systemd (JOURNAL_STREAM set) lines carry no timestamp of their own,
// because journald adds one. Returns false if `level` is not a level name.
[[nodiscard]] bool SetUpLogging(std::string_view level);

// Decides whether a repeated log line may be written: at most `burst` lines
// per key in each `interval`, then one summary line with the count of lines
// held back when the next interval starts. Thread-safe.
class LogRateLimiter {
 public:
  LogRateLimiter(uint32_t burst, std::chrono::steady_clock::duration interval);

  // Returns true if a line for `key` may be written now. When a new interval
  // starts after lines were held back, stores their count in `*suppressed`
  // (else 0) so the caller can mention it.
  bool Allow(std::string_view key, uint64_t* suppressed);

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    uint32_t written = 0;
    uint64_t suppressed = 0;
  };

  const uint32_t burst_;
  const std::chrono::steady_clock::duration interval_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_LOGGING_H_
