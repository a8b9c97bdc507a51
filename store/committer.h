// The committer: the single writer of deliveries. Request handlers hand it a
// WriteBatch with a deduplication key and a completion; its thread drains
// everything that accumulated, drops duplicates, writes the rest as one
// WriteBatch (synced unless configured otherwise) and then completes each
// waiter. A delivery is acknowledged only after its batch is durable.
//
// Each group also records the delivery watermark (meta delivery_watermark,
// see SequenceTracker), in the same batch as the group's deliveries. When
// idle, the committer writes the watermark again if it has advanced without
// a group, for example after a dropped delivery or at start.

#ifndef TERRA_STORE_COMMITTER_H_
#define TERRA_STORE_COMMITTER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <rocksdb/write_batch.h>

#include "store/sequence_tracker.h"
#include "store/status.h"

namespace terra::store {

class Store;

// Work for the committer: one delivery's writes.
struct CommitRequest {
  // `dedup` family key (the trace id). The request is a duplicate if this key
  // is already stored or appears earlier in the same group. Empty means the
  // request is never a duplicate (for example REST results).
  std::string dedup_key;

  // Value stored under dedup_key (see EncodeDedupEntry); the committer writes
  // it in the same batch as `batch`.
  std::string dedup_value;

  rocksdb::WriteBatch batch;

  // The open sequence of the delivery that `batch` archives, or an empty
  // lease. The committer closes it once the request is resolved.
  SequenceLease delivery_sequence;
};

// Outcome of a CommitRequest.
struct CommitResult {
  enum class Outcome {
    kCommitted,  // written (and synced in durable mode)
    kDuplicate,  // dedup_key was already stored; nothing written
    kFailed,     // the store rejected the write; nothing written
  };
  Outcome outcome = Outcome::kFailed;
  Status status;              // the store error when kFailed
  uint64_t group_size = 0;    // requests written in the same batch
};

// Report of one group write, passed to CommitterOptions::on_group.
struct GroupReport {
  size_t requests = 0;   // requests written in the group
  size_t bytes = 0;      // bytes of the batch written
  std::chrono::microseconds latency{0};  // time of the write, sync included
  bool ok = true;
};

struct CommitterOptions {
  // Sync the write-ahead log before completing waiters. Without it a power
  // loss can drop the last acknowledged deliveries (a process crash cannot).
  bool sync = true;

  // Upper bound on the bytes one group batch collects; a request larger than
  // this is written in a group of its own.
  size_t max_group_bytes = 64 << 20;

  // Called on the committer thread after each group write, for metrics. It
  // must be quick and must not call Submit.
  std::function<void(const GroupReport&)> on_group;

  // Fault injection for tests: sleep this long before each group write, to
  // imitate a stalled disk. Zero in production.
  std::chrono::milliseconds test_delay{0};

  // Fault injection for tests: the first request with this dedup key is held
  // back for `test_delay` while later requests are written, so that it
  // commits after deliveries with higher sequences. When set, no other group
  // is delayed. Empty in production.
  std::string test_hold_key;
};

// Counters; read with Committer::stats().
struct CommitterStats {
  uint64_t groups = 0;
  uint64_t committed = 0;
  uint64_t duplicates = 0;
  uint64_t failed = 0;
  uint64_t last_progress_ms = 0;  // steady clock ms of the last group written
  bool last_write_failed = false;  // the most recent group write failed
  std::string last_error;          // its message, when it failed
};

// Thread safety: Submit and stats may be called from any thread. Completions
// run on the committer thread and must not block; they typically post the
// result back to the requester's executor.
class Committer {
 public:
  using Completion = std::function<void(const CommitResult&)>;

  Committer(Store* store, CommitterOptions options);

  // Stops the thread after writing everything already submitted.
  ~Committer();

  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Queues `request`. `done` is called exactly once, on the committer thread,
  // after the request is durable, found duplicate or failed. After Stop,
  // requests fail at once with a Busy status.
  void Submit(CommitRequest request, Completion done);

  // Writes what is queued, then stops the thread. Idempotent.
  void Stop();

  // Number of requests queued but not yet completed.
  size_t pending() const;

  CommitterStats stats() const;

 private:
  struct Pending {
    CommitRequest request;
    Completion done;
  };

  void Run();
  // REQUIRES: mutex_ is held. Moves the held request back to the queue once
  // its time has come or the committer is stopping.
  void ReleaseHeld();
  // REQUIRES: mutex_ is held. Takes the next group off the queue.
  std::deque<Pending> TakeGroup();
  void CommitGroup(std::deque<Pending>* group);
  // Writes the watermark alone if it has advanced since the last write.
  void RefreshWatermark();

  Store* store_;
  CommitterOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  CommitterStats stats_;
  size_t in_flight_ = 0;

  // The request held by CommitterOptions::test_hold_key, and when it is due.
  std::deque<Pending> held_;
  std::chrono::steady_clock::time_point held_until_;
  bool hold_used_ = false;

  // Watermark most recently written, and whether the last attempt to write
  // it alone failed (logged once); only the committer thread uses them.
  std::optional<uint64_t> written_watermark_;
  bool watermark_failed_ = false;

  std::thread thread_;
};

// Value of a `dedup` entry: the delivery's sequence and received time, so
// that the retention filter can expire it without another lookup.
std::string EncodeDedupEntry(uint64_t sequence, int64_t received_ms);
[[nodiscard]] bool DecodeDedupEntry(std::string_view bytes, uint64_t* sequence,
                                    int64_t* received_ms);

}  // namespace terra::store

#endif  // TERRA_STORE_COMMITTER_H_
