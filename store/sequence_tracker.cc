#include "store/sequence_tracker.h"

#include <algorithm>
#include <utility>

namespace terra::store {

SequenceLease::SequenceLease(SequenceLease&& other) noexcept
    : tracker_(std::exchange(other.tracker_, nullptr)),
      sequence_(std::exchange(other.sequence_, 0)) {}

SequenceLease& SequenceLease::operator=(SequenceLease&& other) noexcept {
  if (this != &other) {
    Reset();
    tracker_ = std::exchange(other.tracker_, nullptr);
    sequence_ = std::exchange(other.sequence_, 0);
  }
  return *this;
}

void SequenceLease::Reset() {
  if (tracker_ != nullptr) {
    tracker_->Close(sequence_);
  }
  tracker_ = nullptr;
  sequence_ = 0;
}

SequenceLease SequenceTracker::OpenDelivery() {
  std::lock_guard lock(mutex_);
  uint64_t sequence = last_.fetch_add(1) + 1;
  open_.insert(sequence);
  return SequenceLease(this, sequence);
}

uint64_t SequenceTracker::Watermark(
    const std::vector<uint64_t>& closing) const {
  std::lock_guard lock(mutex_);
  for (uint64_t sequence : open_) {
    if (!std::binary_search(closing.begin(), closing.end(), sequence)) {
      return sequence - 1;
    }
  }
  return last_.load();
}

size_t SequenceTracker::open_count() const {
  std::lock_guard lock(mutex_);
  return open_.size();
}

void SequenceTracker::Close(uint64_t sequence) {
  std::lock_guard lock(mutex_);
  open_.erase(sequence);
}

}  // namespace terra::store
