// The group-commit loop. Each group becomes one rocksdb::WriteBatch: the
// requests' own writes, a `dedup` entry per request that has a key, and two
// meta entries in decimal ASCII. last_sequence is the highest sequence handed
// out, so that sequences continue after a restart. delivery_watermark is
// computed as if the group's deliveries were already closed.

#include "store/committer.h"

#include <rocksdb/db.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/rocksdb_status.h"
#include "store/store.h"

namespace terra::store {
namespace {

constexpr size_t kFamilyCount = static_cast<size_t>(Family::kMeta) + 1;

// How often an idle committer checks whether the watermark advanced without
// a group (a duplicate, a failed write or a delivery dropped before it was
// submitted). A follower prints the deliveries above such a gap up to this
// much later.
constexpr auto kWatermarkRefreshInterval = std::chrono::seconds(1);

uint64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void PutFixed64(std::string* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    out->push_back(static_cast<char>(value & 0xff));
    value >>= 8;
  }
}

uint64_t ReadFixed64(std::string_view bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

size_t RequestBytes(const CommitRequest& request) {
  return request.batch.GetDataSize() + request.dedup_key.size() +
         request.dedup_value.size();
}

// Re-adds every record of a request's batch to the group batch, since
// RocksDB's public WriteBatch API has no append.
class AppendHandler : public rocksdb::WriteBatch::Handler {
 public:
  AppendHandler(const Store& store, rocksdb::WriteBatch* target)
      : target_(target) {
    handles_[0] = store.db()->DefaultColumnFamily();
    for (size_t i = 0; i < kFamilyCount; ++i) {
      rocksdb::ColumnFamilyHandle* handle =
          store.handle(static_cast<Family>(i));
      handles_[handle->GetID()] = handle;
    }
  }

  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    rocksdb::ColumnFamilyHandle* handle = Find(id);
    if (handle == nullptr) return UnknownFamily(id);
    return target_->Put(handle, key, value);
  }

  rocksdb::Status MergeCF(uint32_t id, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
    rocksdb::ColumnFamilyHandle* handle = Find(id);
    if (handle == nullptr) return UnknownFamily(id);
    return target_->Merge(handle, key, value);
  }

  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& key) override {
    rocksdb::ColumnFamilyHandle* handle = Find(id);
    if (handle == nullptr) return UnknownFamily(id);
    return target_->Delete(handle, key);
  }

  rocksdb::Status SingleDeleteCF(uint32_t id,
                                 const rocksdb::Slice& key) override {
    rocksdb::ColumnFamilyHandle* handle = Find(id);
    if (handle == nullptr) return UnknownFamily(id);
    return target_->SingleDelete(handle, key);
  }

  rocksdb::Status DeleteRangeCF(uint32_t id, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    rocksdb::ColumnFamilyHandle* handle = Find(id);
    if (handle == nullptr) return UnknownFamily(id);
    return target_->DeleteRange(handle, begin, end);
  }

  void LogData(const rocksdb::Slice& blob) override {
    target_->PutLogData(blob).PermitUncheckedError();
  }

 private:
  rocksdb::ColumnFamilyHandle* Find(uint32_t id) const {
    auto it = handles_.find(id);
    return it == handles_.end() ? nullptr : it->second;
  }

  static rocksdb::Status UnknownFamily(uint32_t id) {
    return rocksdb::Status::InvalidArgument(
        "write batch names unknown column family id " + std::to_string(id));
  }

  rocksdb::WriteBatch* target_;
  std::unordered_map<uint32_t, rocksdb::ColumnFamilyHandle*> handles_;
};

void Complete(const Committer::Completion& done, const CommitResult& result) {
  // A throwing completion must not end the committer thread, which every
  // other waiter depends on.
  try {
    done(result);
  } catch (const std::exception& error) {
    spdlog::error("committer: a completion threw: {}", error.what());
  } catch (...) {
    spdlog::error("committer: a completion threw a non-standard exception");
  }
}

// Marks requests whose dedup key is stored already or taken earlier in the
// group as duplicates, and a failed lookup as a failure. Returns the indices
// of the requests to write.
std::vector<size_t> FindWritable(const Store& store,
                                 const std::vector<CommitRequest*>& requests,
                                 std::vector<CommitResult>* results) {
  std::vector<size_t> writable;
  std::unordered_set<std::string_view> taken_keys;
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string& key = requests[i]->dedup_key;
    if (key.empty()) {
      writable.push_back(i);
      continue;
    }
    if (taken_keys.count(key) > 0) {
      (*results)[i].outcome = CommitResult::Outcome::kDuplicate;
      continue;
    }

    std::string ignored;
    Status status = store.Get(Family::kDedup, key, &ignored);
    if (status.ok()) {
      (*results)[i].outcome = CommitResult::Outcome::kDuplicate;
    } else if (!status.IsNotFound()) {
      spdlog::error("committer: dedup lookup of '{}' failed: {}", key,
                    status.message());
      (*results)[i].outcome = CommitResult::Outcome::kFailed;
      (*results)[i].status = status;
    } else {
      taken_keys.insert(key);
      writable.push_back(i);
    }
  }
  return writable;
}

// Returns the batch to write: a lone request's own batch, or `group_batch`
// with the writes of every request in `*writable` appended. A request whose
// batch cannot be appended fails and leaves `*writable`.
rocksdb::WriteBatch* CollectWrites(const Store& store,
                                   const std::vector<CommitRequest*>& requests,
                                   std::vector<size_t>* writable,
                                   std::vector<CommitResult>* results,
                                   rocksdb::WriteBatch* group_batch) {
  if (writable->size() == 1) return &requests[writable->front()]->batch;

  AppendHandler append(store, group_batch);
  std::vector<size_t> appended;
  for (size_t i : *writable) {
    group_batch->SetSavePoint();
    rocksdb::Status status = requests[i]->batch.Iterate(&append);
    if (status.ok()) {
      appended.push_back(i);
      continue;
    }
    group_batch->RollbackToSavePoint().PermitUncheckedError();
    (*results)[i].outcome = CommitResult::Outcome::kFailed;
    (*results)[i].status = FromRocksDb(status, "append a commit request");
    spdlog::error("committer: {}", (*results)[i].status.message());
  }
  *writable = std::move(appended);
  return group_batch;
}

// Returns the sorted open delivery sequences of `requests`.
std::vector<uint64_t> DeliverySequences(
    const std::vector<CommitRequest*>& requests) {
  std::vector<uint64_t> sequences;
  for (const CommitRequest* request : requests) {
    if (request->delivery_sequence.sequence() != 0) {
      sequences.push_back(request->delivery_sequence.sequence());
    }
  }
  std::sort(sequences.begin(), sequences.end());
  return sequences;
}

// Adds the dedup entries, the sequence high-water mark and the delivery
// watermark to `batch`, then writes it.
Status WriteGroup(Store* store, rocksdb::WriteBatch* batch,
                  const std::vector<CommitRequest*>& requests,
                  const std::vector<size_t>& writable, uint64_t watermark,
                  bool sync) {
  for (size_t i : writable) {
    const CommitRequest& request = *requests[i];
    if (request.dedup_key.empty()) continue;
    batch
        ->Put(store->handle(Family::kDedup), request.dedup_key,
              request.dedup_value)
        .PermitUncheckedError();
  }
  batch
      ->Put(store->handle(Family::kMeta), kMetaLastSequence,
            std::to_string(store->LastSequence()))
      .PermitUncheckedError();
  batch
      ->Put(store->handle(Family::kMeta), kMetaDeliveryWatermark,
            std::to_string(watermark))
      .PermitUncheckedError();

  Status status = store->Write(batch, sync);
  if (!status.ok()) {
    spdlog::error("committer: writing a group of {} failed: {}",
                  writable.size(), status.message());
  }
  return status;
}

void CountResults(const std::vector<CommitResult>& results,
                  CommitterStats* stats) {
  ++stats->groups;
  for (const CommitResult& result : results) {
    switch (result.outcome) {
      case CommitResult::Outcome::kCommitted:
        ++stats->committed;
        break;
      case CommitResult::Outcome::kDuplicate:
        ++stats->duplicates;
        break;
      case CommitResult::Outcome::kFailed:
        ++stats->failed;
        break;
    }
  }
  stats->last_progress_ms = SteadyNowMs();
}

}  // namespace

Committer::Committer(Store* store, CommitterOptions options)
    : store_(store), options_(options) {
  // Counts the start as progress, so a watchdog does not take the first
  // group, still in flight, for a stall.
  stats_.last_progress_ms = SteadyNowMs();
  thread_ = std::thread(&Committer::Run, this);
}

Committer::~Committer() { Stop(); }

void Committer::Submit(CommitRequest request, Completion done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(request), std::move(done)});
      wake_.notify_one();
      return;
    }
  }

  CommitResult result;
  result.outcome = CommitResult::Outcome::kFailed;
  result.status = Status::Busy("the committer of store " + store_->path() +
                               " is stopped; the daemon is shutting down");
  Complete(done, result);
}

void Committer::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

size_t Committer::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + in_flight_ + held_.size();
}

CommitterStats Committer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Committer::Run() {
  RefreshWatermark();  // closes the sequences of a previous process

  std::unique_lock lock(mutex_);
  while (true) {
    auto wake_at = std::chrono::steady_clock::now() + kWatermarkRefreshInterval;
    if (!held_.empty()) wake_at = std::min(wake_at, held_until_);
    wake_.wait_until(lock, wake_at,
                     [this] { return stopping_ || !queue_.empty(); });
    ReleaseHeld();
    if (queue_.empty() && !held_.empty()) continue;
    if (queue_.empty()) {
      if (stopping_) return;  // everything is written
      lock.unlock();
      RefreshWatermark();
      lock.lock();
      continue;
    }

    std::deque<Pending> group = TakeGroup();
    in_flight_ = group.size();
    lock.unlock();
    if (!group.empty()) CommitGroup(&group);
    lock.lock();
    in_flight_ = 0;
  }
}

void Committer::ReleaseHeld() {
  if (held_.empty()) return;
  if (!stopping_ && std::chrono::steady_clock::now() < held_until_) return;
  spdlog::warn("committer: test hold of '{}' ends",
               held_.front().request.dedup_key);
  queue_.push_front(std::move(held_.front()));
  held_.clear();
}

std::deque<Committer::Pending> Committer::TakeGroup() {
  // Take requests up to max_group_bytes; the first is taken whatever its
  // size, so a large request forms a group of its own.
  std::deque<Pending> group;
  size_t group_bytes = 0;
  while (!queue_.empty()) {
    Pending& next = queue_.front();
    if (!hold_used_ && !options_.test_hold_key.empty() &&
        next.request.dedup_key == options_.test_hold_key) {
      spdlog::warn("committer: test hold of '{}' for {} ms",
                   next.request.dedup_key, options_.test_delay.count());
      hold_used_ = true;
      held_until_ = std::chrono::steady_clock::now() + options_.test_delay;
      held_.push_back(std::move(next));
      queue_.pop_front();
      continue;
    }

    size_t bytes = RequestBytes(next.request);
    if (!group.empty() && group_bytes + bytes > options_.max_group_bytes) {
      break;
    }
    group_bytes += bytes;
    group.push_back(std::move(next));
    queue_.pop_front();
  }
  return group;
}

void Committer::CommitGroup(std::deque<Pending>* group) {
  std::vector<CommitRequest*> requests;
  for (Pending& pending : *group) requests.push_back(&pending.request);
  std::vector<CommitResult> results(requests.size());

  std::vector<size_t> writable = FindWritable(*store_, requests, &results);
  rocksdb::WriteBatch group_batch;
  rocksdb::WriteBatch* batch =
      CollectWrites(*store_, requests, &writable, &results, &group_batch);
  Status written = Status::Ok();
  if (!writable.empty()) {
    if (options_.test_delay.count() > 0 && options_.test_hold_key.empty()) {
      std::this_thread::sleep_for(options_.test_delay);
    }
    // Every request of the group is resolved by this write, so the
    // watermark may pass all of their sequences.
    uint64_t watermark =
        store_->sequences().Watermark(DeliverySequences(requests));
    auto start = std::chrono::steady_clock::now();
    written = WriteGroup(store_, batch, requests, writable, watermark,
                         options_.sync);
    if (written.ok()) written_watermark_ = watermark;
    if (options_.on_group) {
      options_.on_group(GroupReport{
          writable.size(), batch->GetDataSize(),
          std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::steady_clock::now() - start),
          written.ok()});
    }
  }
  for (size_t i : writable) {
    results[i].outcome = written.ok() ? CommitResult::Outcome::kCommitted
                                      : CommitResult::Outcome::kFailed;
    results[i].status = written;
  }
  for (CommitResult& result : results) {
    result.group_size = written.ok() ? writable.size() : 0;
  }
  for (CommitRequest* request : requests) {
    request->delivery_sequence.Reset();
  }

  // Count under the lock, then complete each waiter outside it, so that a
  // completion may call Submit.
  {
    std::lock_guard lock(mutex_);
    CountResults(results, &stats_);
    if (!writable.empty()) {
      stats_.last_write_failed = !written.ok();
      stats_.last_error = written.ok() ? std::string() : written.message();
    }
  }
  for (size_t i = 0; i < group->size(); ++i) {
    Complete((*group)[i].done, results[i]);
  }
  if (writable.empty()) RefreshWatermark();
}

void Committer::RefreshWatermark() {
  uint64_t watermark = store_->sequences().Watermark();
  if (written_watermark_ && watermark <= *written_watermark_) return;

  // last_sequence is written too, and read after the watermark, so it is at
  // least as high. A restart continues from it, so it never hands out again
  // a sequence that a follower may have passed. The write is not synced,
  // because a watermark lost in a crash is written again at the next start.
  rocksdb::WriteBatch batch;
  batch
      .Put(store_->handle(Family::kMeta), kMetaDeliveryWatermark,
           std::to_string(watermark))
      .PermitUncheckedError();
  batch
      .Put(store_->handle(Family::kMeta), kMetaLastSequence,
           std::to_string(store_->LastSequence()))
      .PermitUncheckedError();
  Status status = store_->Write(&batch, /*sync=*/false);
  if (!status.ok()) {
    if (!watermark_failed_) {
      spdlog::error("committer: writing the delivery watermark {} failed: {}",
                    watermark, status.message());
    }
    watermark_failed_ = true;
    return;
  }
  watermark_failed_ = false;
  written_watermark_ = watermark;
}

std::string EncodeDedupEntry(uint64_t sequence, int64_t received_ms) {
  std::string bytes;
  bytes.reserve(16);
  PutFixed64(&bytes, sequence);
  PutFixed64(&bytes, static_cast<uint64_t>(received_ms));
  return bytes;
}

bool DecodeDedupEntry(std::string_view bytes, uint64_t* sequence,
                      int64_t* received_ms) {
  if (bytes.size() != 16) return false;
  *sequence = ReadFixed64(bytes.substr(0, 8));
  *received_ms = static_cast<int64_t>(ReadFixed64(bytes.substr(8)));
  return true;
}

}  // namespace terra::store
