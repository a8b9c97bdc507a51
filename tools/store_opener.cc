#include "tools/store_opener.h"

#include <stdlib.h>

#include <filesystem>

#include "tools/exit_codes.h"

namespace terra::tools {
namespace {

// Creates a fresh directory under $TMPDIR (or /tmp). Returns an empty string
// if it cannot be created.
std::string MakeScratchDirectory() {
  std::error_code error;
  std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) {
    base = "/tmp";
  }
  std::string pattern = (base / "terra-syncctl-XXXXXX").string();
  return mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
}

}  // namespace

SecondaryStore::~SecondaryStore() {
  store_.reset();
  if (!scratch_path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(scratch_path_, ignored);
  }
}

int SecondaryStore::Open(const std::string& path, std::string_view prefix,
                         std::ostream& err) {
  scratch_path_ = MakeScratchDirectory();
  if (scratch_path_.empty()) {
    err << prefix << "cannot create a temporary directory for reading store "
        << path << "; set TMPDIR to a writable directory\n";
    return kExitStoreError;
  }

  store::StoreOptions options;
  options.path = path;
  options.secondary = true;
  options.secondary_path = scratch_path_;
  store::Status status = store::Store::Open(options, &store_);
  if (!status.ok()) {
    err << prefix << "cannot open store: " << status.message() << "\n";
    return kExitStoreError;
  }
  return kExitOk;
}

int OpenPrimaryStore(const std::string& path, size_t write_buffer_bytes,
                     std::string_view prefix, std::ostream& err,
                     std::unique_ptr<store::Store>* store) {
  store::StoreOptions options;
  options.path = path;
  options.write_buffer_bytes = write_buffer_bytes;
  options.bulk_load = true;
  store::Status status = store::Store::Open(options, store);
  if (status.code() == store::Status::Code::kBusy) {
    err << prefix << "store " << path
        << " is locked by another process, most likely a running terra-syncd; "
           "stop the daemon first, or send the deliveries to it with --to "
           "URL\n";
    return kExitStoreError;
  }
  if (!status.ok()) {
    err << prefix << "cannot open store: " << status.message() << "\n";
    return kExitStoreError;
  }
  return kExitOk;
}

}  // namespace terra::tools
