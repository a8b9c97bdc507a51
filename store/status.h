// Error model of the store library: every public store call returns a Status.
// RocksDB's own statuses are translated at this boundary so that callers never
// depend on rocksdb::Status.

#ifndef TERRA_STORE_STATUS_H_
#define TERRA_STORE_STATUS_H_

#include <string>
#include <utility>

namespace terra::store {

// Result of a store operation: a code and, on failure, a message for humans
// that names the store path or key involved and what to do.
class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kNotFound,
    kInvalidArgument,  // the caller passed something unusable
    kCorruption,       // stored bytes are malformed
    kIoError,          // the disk or file system failed
    kNoSpace,          // the disk is full; retry after space returns
    kBusy,             // another process holds the store's lock
    kNewerFormat,      // the store was written by a newer terra-sync
    kNotSupported,
  };

  Status() = default;

  static Status Ok() { return Status(); }
  static Status NotFound(std::string message) {
    return Status(Code::kNotFound, std::move(message));
  }
  static Status InvalidArgument(std::string message) {
    return Status(Code::kInvalidArgument, std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(Code::kCorruption, std::move(message));
  }
  static Status IoError(std::string message) {
    return Status(Code::kIoError, std::move(message));
  }
  static Status NoSpace(std::string message) {
    return Status(Code::kNoSpace, std::move(message));
  }
  static Status Busy(std::string message) {
    return Status(Code::kBusy, std::move(message));
  }
  static Status NewerFormat(std::string message) {
    return Status(Code::kNewerFormat, std::move(message));
  }
  static Status NotSupported(std::string message) {
    return Status(Code::kNotSupported, std::move(message));
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace terra::store

#endif  // TERRA_STORE_STATUS_H_
