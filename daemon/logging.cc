#include "daemon/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace terra::daemon {

bool SetUpLogging(std::string_view level) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return false;
  }

  auto logger = spdlog::stderr_logger_mt("terra-syncd");
  const char* journal = std::getenv("JOURNAL_STREAM");
  if (journal != nullptr && *journal != '\0') {
    logger->set_pattern("%l: %v");
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l: %v");
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return true;
}

LogRateLimiter::LogRateLimiter(uint32_t burst,
                               std::chrono::steady_clock::duration interval)
    : burst_(burst), interval_(interval) {}

bool LogRateLimiter::Allow(std::string_view key, uint64_t* suppressed) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);

  // Bounds the map: keys are reasons, but a caller could pass addresses.
  constexpr size_t kMaxKeys = 4096;
  if (windows_.size() > kMaxKeys) {
    windows_.clear();
  }

  Window& window = windows_[std::string(key)];
  *suppressed = 0;
  if (now - window.start >= interval_) {
    *suppressed = window.suppressed;
    window = Window{now, 0, 0};
  }
  if (window.written < burst_) {
    ++window.written;
    return true;
  }
  ++window.suppressed;
  return false;
}

}  // namespace terra::daemon
