#include "store/retention.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <string>

#include "store/committer.h"
#include "store/delivery_record.h"
#include "store/keys.h"
#include "store/rocksdb_status.h"
#include "store/store.h"

namespace terra::store {
namespace {

class DedupExpiryFilter : public rocksdb::CompactionFilter {
 public:
  explicit DedupExpiryFilter(
      std::shared_ptr<const std::atomic<uint64_t>> expired_before)
      : expired_before_(std::move(expired_before)) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/,
              const rocksdb::Slice& existing_value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    uint64_t sequence = 0;
    int64_t received_ms = 0;
    if (!DecodeDedupEntry(existing_value.ToStringView(), &sequence,
                          &received_ms)) {
      return false;
    }
    return sequence < expired_before_->load();
  }

  const char* Name() const override { return "terra.DedupExpiryFilter"; }

 private:
  std::shared_ptr<const std::atomic<uint64_t>> expired_before_;
};

class DedupExpiryFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  explicit DedupExpiryFilterFactory(
      std::shared_ptr<const std::atomic<uint64_t>> expired_before)
      : expired_before_(std::move(expired_before)) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    return std::make_unique<DedupExpiryFilter>(expired_before_);
  }

  const char* Name() const override { return "terra.DedupExpiryFilterFactory"; }

 private:
  std::shared_ptr<const std::atomic<uint64_t>> expired_before_;
};

// Received times this far after the current time are taken for a clock that
// ran ahead, not for a time to keep the delivery until.
constexpr int64_t kMaxFutureMs = 24 * 60 * 60 * 1000;

// Scans the archive from `first` and returns, in `*end`, the sequence of the
// first delivery to keep: the first one received at or after `cutoff_ms`,
// the first above `watermark`, or the one after the last expired entry.
Status FindExpiryEnd(const Store& store, uint64_t first, int64_t cutoff_ms,
                     int64_t now_ms, uint64_t watermark, size_t max_entries,
                     uint64_t* end, ExpiryPass* pass) {
  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Family::kDeliveries);
  size_t read = 0;
  uint64_t undated_since_last = 0;
  *end = first;
  for (it->Seek(EncodeSequenceKey(first)); it->Valid(); it->Next()) {
    uint64_t sequence = 0;
    if (!DecodeSequenceKey(it->key().ToStringView(), &sequence) ||
        sequence > watermark) {
      return FromRocksDb(it->status(), "read deliveries");
    }
    if (read == max_entries) {
      pass->complete = false;
      return Status::Ok();
    }
    ++read;

    DeliveryRecord record;
    if (!DecodeDeliveryHeader(it->value().ToStringView(), &record) ||
        record.received_ms > now_ms + kMaxFutureMs) {
      ++undated_since_last;
      continue;
    }
    if (record.received_ms >= cutoff_ms) {
      return Status::Ok();
    }
    *end = sequence + 1;
    pass->deleted += undated_since_last + 1;
    pass->undated += undated_since_last;
    undated_since_last = 0;
  }
  return FromRocksDb(it->status(), "read deliveries");
}

}  // namespace

Status ExpireDeliveries(Store* store, int64_t cutoff_ms, int64_t now_ms,
                        size_t max_entries, ExpiryPass* pass) {
  *pass = ExpiryPass();
  uint64_t first = store->deliveries_expired_before();
  uint64_t watermark = store->sequences().Watermark();
  uint64_t end = first;
  Status status = FindExpiryEnd(*store, first, cutoff_ms, now_ms, watermark,
                                max_entries, &end, pass);
  pass->expired_before = end > first ? end : first;
  if (!status.ok() || end <= first) {
    return status;
  }

  // One range deletion from sequence 0 also removes any entry below `first`
  // that an earlier pass missed, such as a delivery committed late.
  rocksdb::WriteBatch batch;
  batch
      .DeleteRange(store->handle(Family::kDeliveries), EncodeSequenceKey(0),
                   EncodeSequenceKey(end))
      .PermitUncheckedError();
  batch
      .Put(store->handle(Family::kMeta), kMetaDeliveriesExpiredBefore,
           std::to_string(end))
      .PermitUncheckedError();
  status = store->Write(&batch, /*sync=*/true);
  if (!status.ok()) {
    return status;
  }
  store->SetDeliveriesExpiredBefore(end);
  return Status::Ok();
}

std::shared_ptr<rocksdb::CompactionFilterFactory> NewDedupExpiryFilterFactory(
    std::shared_ptr<const std::atomic<uint64_t>> expired_before) {
  return std::make_shared<DedupExpiryFilterFactory>(std::move(expired_before));
}

}  // namespace terra::store
