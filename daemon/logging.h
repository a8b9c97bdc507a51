// Logging set-up for terra-syncd: structured journal entries under systemd,
// plain lines on stderr elsewhere; per-thread fields such as TRACE_ID for the
// journal; and a limiter for lines that a sender can repeat at will.

#ifndef TERRA_DAEMON_LOGGING_H_
#define TERRA_DAEMON_LOGGING_H_

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace terra::daemon {

// Sets up spdlog's default logger at `level` (trace ... critical). When
// stderr is connected to the journal (JOURNAL_STREAM names it), entries go to
// journald with a priority and the fields of the current LogFields scope;
// otherwise they are plain lines on stderr. Returns false if `level` is not a
// level name.
[[nodiscard]] bool SetUpLogging(std::string_view level);

// Changes the level of the default logger. Returns false for an unknown name.
[[nodiscard]] bool SetLogLevel(std::string_view level);

// Returns true if log entries go to the journal.
bool LoggingToJournal();

// Journal fields (for example {"TRACE_ID", id}) attached to every entry
// written by this thread while the object lives. Scopes nest; names must be
// upper-case journal field names. Plain stderr lines do not show them, so
// messages name the ids they are about as well.
class LogFields {
 public:
  LogFields(std::initializer_list<std::pair<std::string_view, std::string_view>>
                fields);
  ~LogFields();
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

  // The fields of every live scope of this thread, outermost first.
  static const std::vector<std::pair<std::string, std::string>>& Current();

 private:
  size_t count_;
};

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
