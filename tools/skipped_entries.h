// Malformed store entries that `terra-syncctl dump` skipped, counted by kind
// and reason for the summary at its end.
//
// Thread safety: not thread-safe; one dump uses it from one thread.

#ifndef TERRA_TOOLS_SKIPPED_ENTRIES_H_
#define TERRA_TOOLS_SKIPPED_ENTRIES_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace terra::tools {

class SkippedEntries {
 public:
  // Counts one skipped entry of `kind` ("connection", "record", "delivery" or
  // "job") that was malformed for `reason`.
  void Add(std::string_view kind, std::string_view reason);

  // Entries counted so far.
  uint64_t total() const { return total_; }

  // Writes one line with the total and the count per kind and reason, for
  // example "terra-syncctl dump: skipped 3 malformed entries: 2 record
  // (value is not a record envelope), 1 job (value is not a JSON object)".
  // Writes nothing when total() is 0.
  void PrintSummary(std::ostream& err) const;

 private:
  std::map<std::pair<std::string, std::string>, uint64_t> counts_;
  uint64_t total_ = 0;
};

}  // namespace terra::tools

#endif  // TERRA_TOOLS_SKIPPED_ENTRIES_H_
