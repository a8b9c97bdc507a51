// Counts over a whole store for `terra-syncctl dump stats`: records per data
// type, deliveries per outcome, connections per state, jobs per state, the
// size on disk and the format version. Computed by one streaming pass over
// each family, so the time grows with the store but memory does not.

#ifndef TERRA_STORE_STORE_STATS_H_
#define TERRA_STORE_STORE_STATS_H_

#include <cstdint>
#include <map>
#include <string>

#include "store/status.h"

namespace terra::store {

class Store;

struct StoreStats {
  int format_version = 0;
  uint64_t last_sequence = 0;
  uint64_t size_on_disk_bytes = 0;  // every file under the store directory
  std::map<std::string, uint64_t> records_per_type;
  std::map<std::string, uint64_t> deliveries_per_outcome;  // OutcomeName
  std::map<std::string, uint64_t> connections_per_state;
  std::map<std::string, uint64_t> jobs_per_state;
  uint64_t malformed = 0;  // values that did not decode and were not counted
};

// Fills `*stats` from `store`. Fails only if the store cannot be read.
[[nodiscard]] Status ComputeStoreStats(const Store& store, StoreStats* stats);

}  // namespace terra::store

#endif  // TERRA_STORE_STORE_STATS_H_
