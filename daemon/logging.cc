#include "daemon/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace terra::daemon {
namespace {

thread_local std::vector<std::pair<std::string, std::string>> tls_fields;

bool journal_logging = false;

// Returns true if JOURNAL_STREAM ("<device>:<inode>") names this process's
// stderr, which is how systemd marks a stderr connected to the journal.
bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr || *stream == '\0') {
    return false;
  }
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) {
    return false;
  }
  struct stat info {};
  if (fstat(STDERR_FILENO, &info) != 0) {
    return false;
  }
  return info.st_dev == device && info.st_ino == inode;
}

int SyslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return LOG_DEBUG;
    case spdlog::level::info:
      return LOG_INFO;
    case spdlog::level::warn:
      return LOG_WARNING;
    case spdlog::level::err:
      return LOG_ERR;
    case spdlog::level::critical:
      return LOG_CRIT;
    default:
      return LOG_INFO;
  }
}

// Sends each entry to journald with PRIORITY, MESSAGE, SYSLOG_IDENTIFIER and
// the current LogFields.
class JournalSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    std::vector<std::string> fields;
    fields.push_back("MESSAGE=" + std::string(message.payload.data(),
                                              message.payload.size()));
    fields.push_back("PRIORITY=" + std::to_string(SyslogPriority(message.level)));
    fields.push_back("SYSLOG_IDENTIFIER=terra-syncd");
    for (const auto& [name, value] : LogFields::Current()) {
      fields.push_back(name + "=" + value);
    }

    std::vector<iovec> vectors;
    vectors.reserve(fields.size());
    for (std::string& field : fields) {
      vectors.push_back(iovec{field.data(), field.size()});
    }
    sd_journal_sendv(vectors.data(), static_cast<int>(vectors.size()));
  }

  void flush_() override {}
};

}  // namespace

bool SetUpLogging(std::string_view level) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return false;
  }

  std::shared_ptr<spdlog::logger> logger;
  journal_logging = StderrIsJournal();
  if (journal_logging) {
    logger = std::make_shared<spdlog::logger>("terra-syncd",
                                              std::make_shared<JournalSink>());
    logger->set_pattern("%v");
  } else {
    logger = spdlog::stderr_logger_mt("terra-syncd");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l: %v");
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return true;
}

bool SetLogLevel(std::string_view level) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return false;
  }
  spdlog::set_level(parsed);
  return true;
}

bool LoggingToJournal() { return journal_logging; }

LogFields::LogFields(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields)
    : count_(0) {
  for (const auto& [name, value] : fields) {
    if (value.empty()) {
      continue;
    }
    tls_fields.emplace_back(std::string(name), std::string(value));
    ++count_;
  }
}

LogFields::~LogFields() { tls_fields.resize(tls_fields.size() - count_); }

const std::vector<std::pair<std::string, std::string>>& LogFields::Current() {
  return tls_fields;
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
