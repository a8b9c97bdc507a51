#include "tools/skipped_entries.h"

#include <string>

namespace terra::tools {
namespace {

// Returns `kind` ("record", "delivery", "job", "connection") for one entry,
// and its plural for any other count.
std::string Plural(const std::string& kind, uint64_t count) {
  if (count == 1) {
    return kind;
  }
  if (kind.ends_with('y')) {
    return kind.substr(0, kind.size() - 1) + "ies";
  }
  return kind + "s";
}

}  // namespace

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
    err << separator << count << " " << Plural(kind_and_reason.first, count)
        << " ("
        << kind_and_reason.second << ")";
    separator = ", ";
  }
  err << "\n";
}

}  // namespace terra::tools
