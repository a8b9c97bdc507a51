#include "store/rocksdb_logger.h"

#include <rocksdb/env.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>

namespace terra::store {
namespace {

// Longest line kept; RocksDB's warnings and errors are far shorter, and a
// longer one is cut rather than allocated.
constexpr size_t kMaxLineBytes = 1024;

class SpdlogLogger : public rocksdb::Logger {
 public:
  SpdlogLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  // Lines without a level are INFO lines.
  void Logv(const char* /*format*/, va_list /*ap*/) override {}

  void Logv(const rocksdb::InfoLogLevel level, const char* format,
            va_list ap) override {
    if (level < rocksdb::InfoLogLevel::WARN_LEVEL ||
        level == rocksdb::InfoLogLevel::HEADER_LEVEL) {
      return;
    }
    char line[kMaxLineBytes];
    std::vsnprintf(line, sizeof(line), format, ap);
    if (level == rocksdb::InfoLogLevel::WARN_LEVEL) {
      spdlog::warn("rocksdb: {}", line);
    } else {
      spdlog::error("rocksdb: {}", line);
    }
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewSpdlogRocksDbLogger() {
  return std::make_shared<SpdlogLogger>();
}

}  // namespace terra::store
