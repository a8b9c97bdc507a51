#include "tools/skipped_entries.h"

namespace terra::tools {

void SkippedEntries::Add(std::string_view kind, std::string_view reason) {
  ++counts_[{std::string(kind), std::string(reason)}];
  ++total_;
}

void SkippedEntries::PrintSummary(std::ostream& err) const {
  if (total_ == 0) {
    return;
  }
  err << "terra-syncctl dump: skipped " << total_ << " malformed "
      << (total_ == 1 ? "entry" : "entries") << ":";
  const char* separator = " ";
  for (const auto& [kind_and_reason, count] : counts_) {
    err << separator << count << " " << kind_and_reason.first << " ("
        << kind_and_reason.second << ")";
    separator = ", ";
  }
  err << "\n";
}

}  // namespace terra::tools
