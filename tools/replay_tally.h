// Counts of a replay by result, printed as the summary at its end:
// applied (per outcome), duplicate, rejected (per reason), failed, and capture
// lines skipped.
//
// Thread safety: every method may be called from any thread.

#ifndef TERRA_TOOLS_REPLAY_TALLY_H_
#define TERRA_TOOLS_REPLAY_TALLY_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

namespace terra::tools {

class ReplayTally {
 public:
  // A delivery that the store took; `outcome` is stored, recorded, archived
  // or quarantined.
  void Applied(std::string_view outcome);
  // A delivery whose trace id was already stored; nothing changed.
  void Duplicate();
  // A delivery that the daemon answered with an error status.
  void Rejected(const std::string& reason);
  // A delivery that could not be sent or written.
  void Failed(const std::string& reason);
  // A delivery that --dry-run listed instead of replaying.
  void Planned();
  // A capture line or body file that could not be read and was skipped.
  void Skipped();

  // Deliveries counted so far, in any result except Skipped.
  uint64_t total() const;

  // Writes the summary, for example
  // "replay: 3 applied (stored 2, recorded 1), 0 duplicate, 0 rejected,
  // 0 failed". Reasons follow, one per line with their counts.
  void Print(std::ostream& out) const;

  // kExitOk when nothing was rejected, failed or skipped, else
  // kExitIncomplete.
  int ExitCode() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t, std::less<>> applied_;
  std::map<std::string, uint64_t> rejected_;
  std::map<std::string, uint64_t> failed_;
  uint64_t applied_total_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t rejected_total_ = 0;
  uint64_t failed_total_ = 0;
  uint64_t planned_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace terra::tools

#endif  // TERRA_TOOLS_REPLAY_TALLY_H_
