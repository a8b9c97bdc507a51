#include "tests/support/fixtures.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace terra::testing {

std::string ReadFixture(const std::string& name) {
  return ReadFile(std::string(TERRA_FIXTURES_DIR) + "/" + name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteFile(const std::string& path, const std::string& bytes,
               unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw std::runtime_error("cannot write " + path);
    }
    out << bytes;
  }
  if (chmod(path.c_str(), mode) != 0) {
    throw std::runtime_error("cannot chmod " + path);
  }
}

}  // namespace terra::testing
