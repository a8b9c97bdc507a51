// Opening a store from terra-syncctl: as a read-only secondary instance that
// follows a primary (dump, and replay from an archive), or as the primary for
// an offline replay. Errors become one line on `err` and an exit code.

#ifndef TERRA_TOOLS_STORE_OPENER_H_
#define TERRA_TOOLS_STORE_OPENER_H_

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "store/store.h"

namespace terra::tools {

// A store opened as a secondary instance, with the scratch directory that
// RocksDB needs for the secondary's own files. The directory is removed with
// everything in it when this object is destroyed.
class SecondaryStore {
 public:
  SecondaryStore() = default;
  ~SecondaryStore();
  SecondaryStore(const SecondaryStore&) = delete;
  SecondaryStore& operator=(const SecondaryStore&) = delete;

  // Opens `path` as a secondary instance. On failure (no such directory, not
  // a store, a newer format, unreadable) writes one line starting with
  // `prefix` to `err` and returns kExitStoreError; returns kExitOk on success.
  [[nodiscard]] int Open(const std::string& path, std::string_view prefix,
                         std::ostream& err);

  // REQUIRES: Open returned kExitOk.
  store::Store& store() const { return *store_; }

 private:
  std::string scratch_path_;
  std::unique_ptr<store::Store> store_;
};

// Opens `path` as the primary for an offline replay, as a bulk load (see
// store::StoreOptions::bulk_load: the caller must Flush() before it reports
// success), with memtables of `write_buffer_bytes` per column family. An
// empty directory becomes a new store. Returns kExitOk on success. On
// failure writes one line starting with `prefix` to `err` and returns
// kExitStoreError; that line names a running terra-syncd when the store is
// locked.
[[nodiscard]] int OpenPrimaryStore(const std::string& path,
                                   size_t write_buffer_bytes,
                                   std::string_view prefix, std::ostream& err,
                                   std::unique_ptr<store::Store>* store);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_STORE_OPENER_H_
