// A progress bar for long replays, redrawn in place on standard error when it
// is a terminal, and silent otherwise (so logs and pipes get only the
// summary).
//
// Thread safety: Update may be called from any thread.

#ifndef TERRA_TOOLS_PROGRESS_LINE_H_
#define TERRA_TOOLS_PROGRESS_LINE_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>

namespace terra::tools {

// Time between redraws, so a fast replay does not spend its time drawing.
inline constexpr std::chrono::milliseconds kProgressRedrawInterval{100};

class ProgressLine {
 public:
  // Draws on `err` only if it is standard error and a terminal.
  explicit ProgressLine(std::ostream& err);

  // Records that `done` deliveries are finished and the input is `fraction`
  // (0 to 1) read; redraws at most every kProgressRedrawInterval.
  void Update(uint64_t done, double fraction);

  // Clears the bar, so the summary starts on a clean line.
  void Finish();

 private:
  std::ostream& err_;
  bool enabled_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace terra::tools

#endif  // TERRA_TOOLS_PROGRESS_LINE_H_
