#include "store/delivery_queries.h"

#include <rocksdb/iterator.h>

#include <charconv>
#include <memory>
#include <system_error>

#include "store/committer.h"
#include "store/keys.h"
#include "store/rocksdb_status.h"
#include "store/store.h"

namespace terra::store {
namespace {

std::string_view ToView(const rocksdb::Slice& slice) {
  return std::string_view(slice.data(), slice.size());
}

bool Matches(const DeliveryRecord& delivery, const DeliveryFilter& filter) {
  if (filter.received_from_ms &&
      delivery.received_ms < *filter.received_from_ms) {
    return false;
  }
  if (filter.received_to_ms && delivery.received_ms > *filter.received_to_ms) {
    return false;
  }
  if (filter.outcome && delivery.outcome != *filter.outcome) {
    return false;
  }
  return (filter.trace_id.empty() || delivery.trace_id == filter.trace_id) &&
         (filter.terra_reference.empty() ||
          delivery.terra_reference == filter.terra_reference) &&
         (filter.event_type.empty() ||
          delivery.event_type == filter.event_type);
}

// Visits the one delivery of a trace id, found through its `dedup` entry.
Status VisitTraceId(const Store& store, const DeliveryFilter& filter,
                    const std::function<bool(const DeliveryRecord&)>& visit,
                    const std::function<void(uint64_t)>& on_malformed) {
  std::string entry;
  Status status = store.Get(Family::kDedup, filter.trace_id, &entry);
  if (status.IsNotFound()) {
    return Status::Ok();
  }
  if (!status.ok()) {
    return status;
  }
  uint64_t sequence = 0;
  int64_t received_ms = 0;
  if (!DecodeDedupEntry(entry, &sequence, &received_ms)) {
    return Status::Corruption("dedup entry of trace id " + filter.trace_id +
                              " in store " + store.path() + " is malformed");
  }
  if (sequence <= filter.after_sequence) {
    return Status::Ok();
  }

  std::string value;
  status = store.Get(Family::kDeliveries, EncodeSequenceKey(sequence), &value);
  if (status.IsNotFound()) {
    return Status::Ok();  // expired by retention, or a dedup entry only
  }
  if (!status.ok()) {
    return status;
  }
  DeliveryRecord delivery;
  if (!DecodeDeliveryRecord(value, &delivery)) {
    if (on_malformed) on_malformed(sequence);
    return Status::Ok();
  }
  if (Matches(delivery, filter)) {
    visit(delivery);
  }
  return Status::Ok();
}

}  // namespace

Status ForEachDelivery(
    const Store& store, const DeliveryFilter& filter,
    const std::function<bool(const DeliveryRecord& delivery)>& visit,
    const std::function<void(uint64_t sequence)>& on_malformed) {
  if (!filter.trace_id.empty()) {
    return VisitTraceId(store, filter, visit, on_malformed);
  }

  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Family::kDeliveries);
  for (it->Seek(EncodeSequenceKey(filter.after_sequence + 1)); it->Valid();
       it->Next()) {
    uint64_t sequence = 0;
    DeliveryRecord delivery;
    if (!DecodeSequenceKey(ToView(it->key()), &sequence) ||
        !DecodeDeliveryRecord(ToView(it->value()), &delivery)) {
      if (on_malformed) on_malformed(sequence);
      continue;
    }
    if (Matches(delivery, filter) && !visit(delivery)) {
      break;
    }
  }
  return FromRocksDb(it->status(), "reading deliveries");
}

Status ReadDeliveryWatermark(const Store& store,
                             std::optional<uint64_t>* watermark) {
  watermark->reset();
  std::string value;
  Status status = store.Get(Family::kMeta, kMetaDeliveryWatermark, &value);
  if (status.IsNotFound()) {
    return Status::Ok();
  }
  if (!status.ok()) {
    return status;
  }
  uint64_t parsed = 0;
  auto [end, error] =
      std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc() || end != value.data() + value.size() ||
      value.empty()) {
    return Status::Corruption("meta " + std::string(kMetaDeliveryWatermark) +
                              " in store " + store.path() +
                              " is not a decimal number: '" + value + "'");
  }
  *watermark = parsed;
  return Status::Ok();
}

Status LastDeliverySequence(const Store& store, uint64_t* sequence) {
  *sequence = 0;
  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Family::kDeliveries);
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    if (DecodeSequenceKey(ToView(it->key()), sequence)) break;
  }
  return FromRocksDb(it->status(), "reading deliveries");
}

}  // namespace terra::store
