#include "tests/fuzz/fuzz_store.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/fuzz/fuzz_target.h"

namespace terra::fuzz {
namespace {

// Small caches: the fuzzers write little, and many run side by side.
constexpr size_t kCacheBytes = 1 << 20;
constexpr size_t kWriteBufferBytes = 1 << 20;

std::string& StorePath() {
  static std::string path;
  return path;
}

void RemoveStore() {
  std::error_code ignored;
  if (!StorePath().empty()) std::filesystem::remove_all(StorePath(), ignored);
}

std::unique_ptr<store::Store> OpenStore() {
  // A fuzzer runs millions of inputs; the log line that the daemon writes
  // per rejected or quarantined request would take most of the time.
  spdlog::set_level(spdlog::level::off);

  std::string pattern =
      (std::filesystem::temp_directory_path() / "terra-fuzz-XXXXXX").string();
  FuzzCheck(mkdtemp(pattern.data()) != nullptr, "create a store directory");
  StorePath() = pattern;
  std::atexit(RemoveStore);

  store::StoreOptions options;
  options.path = pattern;
  options.block_cache_bytes = kCacheBytes;
  options.write_buffer_bytes = kWriteBufferBytes;
  std::unique_ptr<store::Store> opened;
  store::Status status = store::Store::Open(options, &opened);
  if (!status.ok()) std::fprintf(stderr, "%s\n", status.message().c_str());
  FuzzCheck(status.ok(), "open the fuzzing store");
  return opened;
}

}  // namespace

store::Store* FuzzStore() {
  // Never closed: threads of a target (a committer, an io thread) may still
  // use it while the process exits.
  static store::Store* const store = OpenStore().release();
  return store;
}

}  // namespace terra::fuzz
