// Translation of rocksdb::Status into the store's Status. Internal to the
// store library: callers outside store/ never see rocksdb::Status.

#ifndef TERRA_STORE_ROCKSDB_STATUS_H_
#define TERRA_STORE_ROCKSDB_STATUS_H_

#include <rocksdb/status.h>

#include <cctype>
#include <string>
#include <string_view>

#include "store/status.h"

namespace terra::store {

// Returns true if `status` reports that another process, or another instance in
// this process, holds the store's LOCK file. RocksDB 7.8 reports that as an
// IOError whose message mentions the lock, not as Busy.
inline bool IsLockHeld(const rocksdb::Status& status) {
  if (status.IsBusy()) return true;
  if (!status.IsIOError()) return false;
  std::string message = status.ToString();
  for (char& c : message) c = static_cast<char>(std::tolower(c));
  return message.find("lock") != std::string::npos;
}

// Translates `status`; `context` names the operation and the store path or
// key, for example "write to store /var/lib/terra-sync".
inline Status FromRocksDb(const rocksdb::Status& status,
                          std::string_view context) {
  if (status.ok()) return Status::Ok();

  std::string message = std::string(context) + ": " + status.ToString();
  if (status.IsNotFound()) return Status::NotFound(std::move(message));
  if (status.IsNoSpace()) {
    return Status::NoSpace(message + "; free disk space, then retry");
  }
  if (IsLockHeld(status)) {
    return Status::Busy(message +
                        "; the store is in use by another process, for "
                        "example a running terra-syncd: stop it, or read the "
                        "store as a secondary instance (terra-syncctl dump)");
  }
  if (status.IsCorruption()) return Status::Corruption(std::move(message));
  if (status.IsInvalidArgument()) {
    return Status::InvalidArgument(std::move(message));
  }
  if (status.IsNotSupported()) return Status::NotSupported(std::move(message));
  return Status::IoError(std::move(message));
}

}  // namespace terra::store

#endif  // TERRA_STORE_ROCKSDB_STATUS_H_
