// A directory under $TMPDIR (or /tmp) that exists for the lifetime of the
// object and is removed with everything in it afterwards.

#ifndef TERRA_TESTS_SUPPORT_TEMP_DIR_H_
#define TERRA_TESTS_SUPPORT_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace terra::testing {

class TempDir {
 public:
  // Creates a fresh directory named terra-sync-test-XXXXXX. Throws
  // std::runtime_error if it cannot be created.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Returns path() / name as a string.
  std::string Sub(const std::string& name) const;

 private:
  std::filesystem::path path_;
};

}  // namespace terra::testing

#endif  // TERRA_TESTS_SUPPORT_TEMP_DIR_H_
