// Retention of archived deliveries: the `deliveries` archive and the `dedup`
// entries are kept for a configured time, long enough to replay any
// extraction and longer than Terra retries a delivery, then deleted.
//
// Deliveries expire in sequence order. A pass deletes the archive's oldest
// entries with one range deletion, up to the first delivery received at or
// after the cutoff, and records the first sequence it kept in `meta` as
// `deliveries_expired_before`. A compaction filter on `dedup` then drops the
// entries of deliveries below that sequence. Sequences and received times
// grow together, except for deliveries applied offline from an old capture
// (replay --into keeps their received time): such a delivery stays until
// every delivery before it has expired too.

#ifndef TERRA_STORE_RETENTION_H_
#define TERRA_STORE_RETENTION_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "store/status.h"

namespace rocksdb {
class CompactionFilterFactory;
}  // namespace rocksdb

namespace terra::store {

class Store;

// Result of one expiry pass.
struct ExpiryPass {
  uint64_t deleted = 0;  // archive entries deleted by this pass
  uint64_t undated = 0;  // of those, entries without a usable received time
  uint64_t expired_before = 0;  // every delivery below this sequence is gone
  bool complete = true;         // false: max_entries ran out before the cutoff
};

// Deletes the archived deliveries received before `cutoff_ms` (unix ms), in
// sequence order, and marks their dedup entries for removal. `now_ms` is the
// current time. Reads at most
// `max_entries` archive entries, so that one pass takes bounded time. Call
// again while `pass->complete` is false. Stops at the first delivery
// received at or after the cutoff and never passes the delivery watermark,
// so a delivery still being committed is kept. An archive entry has no
// usable received time when it cannot be decoded or its time is more than a
// day after `now_ms`. Such an entry goes with the deliveries around it when
// a later one expires, so a clock that once ran ahead cannot stop retention.
// The write is synced. Returns the store's error if reading or writing fails.
// REQUIRES: max_entries > 0.
[[nodiscard]] Status ExpireDeliveries(Store* store, int64_t cutoff_ms,
                                      int64_t now_ms, size_t max_entries,
                                      ExpiryPass* pass);

// Result of one pass over the `jobs` family.
struct JobExpiryPass {
  uint64_t deleted = 0;  // finished jobs deleted by this pass
  uint64_t next = 0;     // job id to start the next pass from
  bool complete = true;  // false: max_entries ran out before the cutoff
};

// Deletes the finished jobs (state "done" or "failed") whose finished_ms is
// before `cutoff_ms`, reading job ids from `from` on and at most
// `max_entries` jobs. Job ids grow with created_ms, so the pass stops at the
// first job created at or after the cutoff. `pass->next` is where the next
// pass may start: the first job this pass kept, or else the id after the
// last job it deleted. Jobs that are not finished, or cannot be read, are
// kept. Returns the store's error if
// reading or writing fails. REQUIRES: max_entries > 0.
[[nodiscard]] Status ExpireJobs(Store* store, int64_t cutoff_ms, uint64_t from,
                                size_t max_entries, JobExpiryPass* pass);

// A compaction filter factory for the `dedup` family: its filters drop every
// entry whose delivery sequence is below `*expired_before`, and keep entries
// they cannot decode.
std::shared_ptr<rocksdb::CompactionFilterFactory> NewDedupExpiryFilterFactory(
    std::shared_ptr<const std::atomic<uint64_t>> expired_before);

}  // namespace terra::store

#endif  // TERRA_STORE_RETENTION_H_
