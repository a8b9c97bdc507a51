#include "tools/progress_line.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <string>

namespace terra::tools {
namespace {

constexpr int kBarWidth = 30;

}  // namespace

ProgressLine::ProgressLine(std::ostream& err)
    : err_(err),
      enabled_(&err == &std::cerr && isatty(STDERR_FILENO) == 1),
      started_(std::chrono::steady_clock::now()) {}

void ProgressLine::Update(uint64_t done, double fraction) {
  if (!enabled_) {
    return;
  }
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < kProgressRedrawInterval) {
    return;
  }
  last_draw_ = now;

  fraction = std::clamp(fraction, 0.0, 1.0);
  int filled = static_cast<int>(fraction * kBarWidth);
  double seconds = std::chrono::duration<double>(now - started_).count();
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  err_ << "\r[" << std::string(filled, '#')
       << std::string(kBarWidth - filled, ' ') << "] "
       << static_cast<int>(fraction * 100) << "%  " << done << " deliveries, "
       << static_cast<uint64_t>(rate) << "/s " << std::flush;
}

void ProgressLine::Finish() {
  if (enabled_) {
    err_ << "\r\033[K" << std::flush;
  }
}

}  // namespace terra::tools
