#include "tools/replay_tally.h"

#include "tools/exit_codes.h"

namespace terra::tools {
namespace {

void PrintReasons(std::string_view label,
                  const std::map<std::string, uint64_t>& reasons,
                  std::ostream& out) {
  for (const auto& [reason, count] : reasons) {
    out << "  " << count << " " << label << ": " << reason << "\n";
  }
}

}  // namespace

void ReplayTally::Applied(std::string_view outcome) {
  std::lock_guard lock(mutex_);
  auto it = applied_.find(outcome);
  if (it == applied_.end()) {
    it = applied_.emplace(std::string(outcome), 0).first;
  }
  ++it->second;
  ++applied_total_;
}

void ReplayTally::Duplicate() {
  std::lock_guard lock(mutex_);
  ++duplicates_;
}

void ReplayTally::Rejected(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++rejected_[reason];
  ++rejected_total_;
}

void ReplayTally::Failed(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++failed_[reason];
  ++failed_total_;
}

void ReplayTally::Planned() {
  std::lock_guard lock(mutex_);
  ++planned_;
}

void ReplayTally::Skipped() {
  std::lock_guard lock(mutex_);
  ++skipped_;
}

uint64_t ReplayTally::total() const {
  std::lock_guard lock(mutex_);
  return applied_total_ + duplicates_ + rejected_total_ + failed_total_ +
         planned_;
}

void ReplayTally::Print(std::ostream& out) const {
  std::lock_guard lock(mutex_);
  if (planned_ > 0) {
    out << "replay: dry run, " << planned_ << " deliveries would be replayed\n";
    if (applied_total_ + duplicates_ + rejected_total_ + failed_total_ +
            skipped_ ==
        0) {
      return;
    }
  }
  out << "replay: " << applied_total_ << " applied";
  if (!applied_.empty()) {
    out << " (";
    for (auto it = applied_.begin(); it != applied_.end(); ++it) {
      out << (it == applied_.begin() ? "" : ", ") << it->first << " "
          << it->second;
    }
    out << ")";
  }
  out << ", " << duplicates_ << " duplicate, " << rejected_total_
      << " rejected, " << failed_total_ << " failed";
  if (skipped_ > 0) {
    out << ", " << skipped_ << " invalid input (line or file)";
  }
  out << "\n";
  PrintReasons("rejected", rejected_, out);
  PrintReasons("failed", failed_, out);
}

int ReplayTally::ExitCode() const {
  std::lock_guard lock(mutex_);
  return rejected_total_ + failed_total_ + skipped_ == 0 ? kExitOk
                                                         : kExitIncomplete;
}

}  // namespace terra::tools
