// A rocksdb::Logger that sends RocksDB's warnings and errors to spdlog
// instead of the LOG file in the store directory.
//
// Debian's librocksdb 7.8 is built with assertions enabled, and its file
// logger asserts that no write follows a failed one. A full file system
// fails a LOG write, so the next log line, which RocksDB writes while it
// records the very error, aborted the daemon. With this logger a full disk
// reaches the committer as a write error instead.

#ifndef TERRA_STORE_ROCKSDB_LOGGER_H_
#define TERRA_STORE_ROCKSDB_LOGGER_H_

#include <memory>

namespace rocksdb {
class Logger;
}

namespace terra::store {

// Returns a logger that forwards lines of WARN level and above to spdlog,
// prefixed "rocksdb: ", and drops the rest (RocksDB's INFO lines are
// statistics and routine flush and compaction events). Thread-safe.
std::shared_ptr<rocksdb::Logger> NewSpdlogRocksDbLogger();

}  // namespace terra::store

#endif  // TERRA_STORE_ROCKSDB_LOGGER_H_
