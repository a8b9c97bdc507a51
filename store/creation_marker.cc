#include "store/creation_marker.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace terra::store {
namespace {

std::string MarkerPath(const std::string& path) {
  return path + "/" + kCreationMarkerName;
}

Status ErrnoError(const std::string& what, int error) {
  return Status::IoError(what + ": " + std::strerror(error));
}

// Makes the entries of directory `path` durable.
Status SyncDirectory(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open store directory " + path, errno);
  int result = fsync(fd);
  int error = errno;
  close(fd);
  if (result != 0)
    return ErrnoError("cannot sync store directory " + path, error);
  return Status::Ok();
}

}  // namespace

Status CreationMarker::Begin(const std::string& path,
                             std::unique_ptr<CreationMarker>* marker) {
  std::string file = MarkerPath(path);
  int fd = open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create " + file, errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    close(fd);
    return ErrnoError("cannot lock " + file, error);
  }

  marker->reset(new CreationMarker(path, fd));
  return SyncDirectory(path);
}

CreationMarker::~CreationMarker() {
  if (fd_ >= 0) close(fd_);
}

Status CreationMarker::Finish() {
  std::string file = MarkerPath(path_);
  if (unlink(file.c_str()) != 0) {
    return ErrnoError("cannot remove " + file, errno);
  }
  close(fd_);
  fd_ = -1;
  return SyncDirectory(path_);
}

Status ClearInterruptedCreation(const std::string& path, bool* cleared) {
  *cleared = false;
  std::string file = MarkerPath(path);
  int fd = open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? Status::Ok()
                           : ErrnoError("cannot open " + file, errno);
  }
  bool locked_elsewhere = flock(fd, LOCK_EX | LOCK_NB) != 0;
  close(fd);
  if (locked_elsewhere) {
    return Status::Busy("store " + path +
                        " is being created by another process; wait for it "
                        "to finish, or stop it");
  }

  std::error_code error;
  std::vector<std::filesystem::path> entries;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    entries.push_back(entry.path());
  }
  for (const std::filesystem::path& entry : entries) {
    if (error) break;
    std::filesystem::remove_all(entry, error);
  }
  if (error) {
    return Status::IoError(
        "cannot remove what an interrupted creation left in " + path + ": " +
        error.message());
  }
  *cleared = true;
  return SyncDirectory(path);
}

}  // namespace terra::store
