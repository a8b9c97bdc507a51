#include "store/retention.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>

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

// Reads a job's created_ms, whether its state is "done" or "failed", and its
// finished_ms. Returns false if the job is not a JSON object with an integer
// created_ms.
bool ReadJobTimes(std::string_view text, int64_t* created_ms, bool* finished,
                  int64_t* finished_ms) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  const boost::json::object* job = ec ? nullptr : value.if_object();
  if (job == nullptr) {
    return false;
  }
  const boost::json::value* created = job->if_contains("created_ms");
  if (created == nullptr || !created->is_int64()) {
    return false;
  }
  *created_ms = created->as_int64();

  const boost::json::value* state = job->if_contains("state");
  const boost::json::value* finished_at = job->if_contains("finished_ms");
  *finished =
      state != nullptr && state->is_string() &&
      (state->as_string() == "done" || state->as_string() == "failed") &&
      finished_at != nullptr && finished_at->is_int64();
  *finished_ms = *finished ? finished_at->as_int64() : 0;
  return true;
}

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

Status ExpireJobs(Store* store, int64_t cutoff_ms, uint64_t from,
                  size_t max_entries, JobExpiryPass* pass) {
  *pass = JobExpiryPass();
  pass->next = from;
  bool kept_one = false;
  size_t read = 0;
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it = store->NewIterator(Family::kJobs);
  for (it->Seek(EncodeSequenceKey(from)); it->Valid(); it->Next()) {
    if (read == max_entries) {
      pass->complete = false;
      break;
    }
    ++read;

    uint64_t id = 0;
    int64_t created_ms = 0;
    int64_t finished_ms = 0;
    bool finished = false;
    bool readable = DecodeSequenceKey(it->key().ToStringView(), &id) &&
                    ReadJobTimes(it->value().ToStringView(), &created_ms,
                                 &finished, &finished_ms);
    if (readable && created_ms >= cutoff_ms) {
      break;
    }
    if (readable && finished && finished_ms < cutoff_ms) {
      batch.Delete(store->handle(Family::kJobs), it->key())
          .PermitUncheckedError();
      ++pass->deleted;
    } else if (!kept_one) {
      kept_one = true;
      pass->next = id;
    }
    if (!kept_one) {
      pass->next = id + 1;
    }
  }

  Status status = FromRocksDb(it->status(), "read jobs");
  if (!status.ok() || pass->deleted == 0) {
    return status;
  }
  return store->Write(&batch, /*sync=*/false);
}

std::shared_ptr<rocksdb::CompactionFilterFactory> NewDedupExpiryFilterFactory(
    std::shared_ptr<const std::atomic<uint64_t>> expired_before) {
  return std::make_shared<DedupExpiryFilterFactory>(std::move(expired_before));
}

}  // namespace terra::store
