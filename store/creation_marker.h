// The marker of a store being created. Creating a store takes several
// RocksDB steps (the database, each column family, the format version), and
// a process killed between them leaves a directory that is neither empty nor
// a store. So a primary that turns an empty directory into a store first
// writes the marker file TERRA-SYNC-CREATING and holds an flock(2) on it,
// and removes it, durably, once the store is complete. A marker that no
// process has locked marks an interrupted creation. The directory was empty
// before that creation began, so all its files can be removed.
//
// Thread safety: a CreationMarker belongs to one thread.

#ifndef TERRA_STORE_CREATION_MARKER_H_
#define TERRA_STORE_CREATION_MARKER_H_

#include <memory>
#include <string>

#include "store/status.h"

namespace terra::store {

// Name of the marker file inside the store directory.
inline constexpr char kCreationMarkerName[] = "TERRA-SYNC-CREATING";

class CreationMarker {
 public:
  // Writes and locks the marker in the directory `path`, which must be
  // empty, and makes it durable. Fails with kIoError naming the path.
  [[nodiscard]] static Status Begin(const std::string& path,
                                    std::unique_ptr<CreationMarker>* marker);

  // Releases the lock and leaves the file, as a killed process would.
  ~CreationMarker();
  CreationMarker(const CreationMarker&) = delete;
  CreationMarker& operator=(const CreationMarker&) = delete;

  // Removes the marker and makes the removal durable: the store is complete.
  [[nodiscard]] Status Finish();

 private:
  CreationMarker(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;  // the store directory
  int fd_;
};

// Looks for the marker in the directory `path`. If a creation left it and no
// process has it locked, removes every entry of `path` and sets `*cleared`.
// Fails with kBusy if another process is creating the store now, and with
// kIoError if an entry cannot be removed.
[[nodiscard]] Status ClearInterruptedCreation(const std::string& path,
                                              bool* cleared);

}  // namespace terra::store

#endif  // TERRA_STORE_CREATION_MARKER_H_
