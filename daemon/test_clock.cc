#include "daemon/test_clock.h"

#include <charconv>
#include <fstream>

namespace terra::daemon {
namespace {

using std::chrono::system_clock;

system_clock::time_point ReadClockFile(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text)) {
    return system_clock::now();
  }
  int64_t seconds = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc() || end != text.data() + text.size()) {
    return system_clock::now();
  }
  return system_clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

WallClock MakeWallClock(const std::string& file) {
  if (file.empty()) {
    return [] { return system_clock::now(); };
  }
  return [file] { return ReadClockFile(file); };
}

}  // namespace terra::daemon
