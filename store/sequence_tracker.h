// Store-wide sequence numbers, and the delivery watermark that a change feed
// (`terra-syncctl dump --follow`) reads.
//
// A delivery takes its sequence when its writes are built, before its batch
// reaches the committer, so deliveries can commit out of sequence order. The
// tracker keeps the delivery sequences that are open: handed out, and neither
// committed nor abandoned yet. Every delivery sequence at or below the
// watermark is closed, so a reader that has seen the deliveries up to the
// watermark will never find another one below it.

#ifndef TERRA_STORE_SEQUENCE_TRACKER_H_
#define TERRA_STORE_SEQUENCE_TRACKER_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <vector>

namespace terra::store {

class SequenceTracker;

// An open delivery sequence. Destroying or resetting the lease closes the
// sequence: the committer does it after the delivery's batch is written, and
// a caller that drops the delivery does it by dropping the lease. Move-only.
class SequenceLease {
 public:
  SequenceLease() = default;
  ~SequenceLease() { Reset(); }
  SequenceLease(SequenceLease&& other) noexcept;
  SequenceLease& operator=(SequenceLease&& other) noexcept;
  SequenceLease(const SequenceLease&) = delete;
  SequenceLease& operator=(const SequenceLease&) = delete;

  // Returns the sequence, or 0 for an empty lease.
  uint64_t sequence() const { return sequence_; }

  // Closes the sequence, if any; the lease is empty afterwards.
  void Reset();

 private:
  friend class SequenceTracker;
  SequenceLease(SequenceTracker* tracker, uint64_t sequence)
      : tracker_(tracker), sequence_(sequence) {}

  SequenceTracker* tracker_ = nullptr;
  uint64_t sequence_ = 0;
};

// Thread safety: every method may be called from any thread. The tracker
// must outlive its leases.
class SequenceTracker {
 public:
  // Continues after `last_sequence`, the highest number a previous process
  // handed out. Sequences of a previous process count as closed.
  explicit SequenceTracker(uint64_t last_sequence = 0)
      : last_(last_sequence) {}

  SequenceTracker(const SequenceTracker&) = delete;
  SequenceTracker& operator=(const SequenceTracker&) = delete;

  // Returns the next sequence for something that is not a delivery (a record
  // copy, a connection event, a job id). It is never open.
  uint64_t Next() { return last_.fetch_add(1) + 1; }

  // Returns the next sequence as an open delivery sequence.
  [[nodiscard]] SequenceLease OpenDelivery();

  // Returns the highest sequence handed out so far.
  uint64_t Last() const { return last_.load(); }

  // Sets the highest sequence handed out to what a primary recorded. Only for
  // a secondary instance, which hands out none itself.
  void FollowPrimary(uint64_t last_sequence) { last_.store(last_sequence); }

  // Returns the watermark: the highest sequence at or below which every
  // delivery sequence is closed, counting those in `closing` as closed too
  // (the committer passes the sequences of the group it is writing).
  // REQUIRES: `closing` is sorted in ascending order.
  uint64_t Watermark(const std::vector<uint64_t>& closing = {}) const;

  // Returns the number of open delivery sequences.
  size_t open_count() const;

 private:
  friend class SequenceLease;
  void Close(uint64_t sequence);

  std::atomic<uint64_t> last_;

  // Delivery sequences are handed out under `mutex_` and enter `open_` in the
  // same step, so a Watermark that finds `open_` empty may use `last_`.
  mutable std::mutex mutex_;
  std::set<uint64_t> open_;
};

}  // namespace terra::store

#endif  // TERRA_STORE_SEQUENCE_TRACKER_H_
