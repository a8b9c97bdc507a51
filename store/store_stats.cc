#include "store/store_stats.h"

#include <rocksdb/iterator.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>

#include "store/connection.h"
#include "store/delivery_queries.h"
#include "store/keys.h"
#include "store/queries.h"
#include "store/rocksdb_status.h"
#include "store/store.h"

namespace terra::store {
namespace {

std::string_view ToView(const rocksdb::Slice& slice) {
  return std::string_view(slice.data(), slice.size());
}

// Counts record keys per type; values are not decoded, so this pass is cheap.
Status CountRecords(const Store& store, StoreStats* stats) {
  std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(Family::kRecords);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    RecordKeyParts parts;
    if (!ParseRecordKey(ToView(it->key()), &parts)) {
      ++stats->malformed;
      continue;
    }
    ++stats->records_per_type[std::string(parts.type)];
  }
  return FromRocksDb(it->status(), "reading records");
}

Status CountJobs(const Store& store, StoreStats* stats) {
  std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(Family::kJobs);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    boost::system::error_code ec;
    boost::json::value job = boost::json::parse(ToView(it->value()), ec);
    const boost::json::value* state =
        !ec && job.is_object() ? job.get_object().if_contains("state")
                               : nullptr;
    if (state == nullptr || !state->is_string()) {
      ++stats->malformed;
      continue;
    }
    ++stats->jobs_per_state[std::string(state->get_string())];
  }
  return FromRocksDb(it->status(), "reading jobs");
}

uint64_t DirectorySize(const std::string& path) {
  uint64_t total = 0;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(path, error);
       !error && it != std::filesystem::recursive_directory_iterator();
       it.increment(error)) {
    std::error_code size_error;
    uintmax_t size =
        it->is_regular_file(size_error) ? it->file_size(size_error) : 0;
    if (!size_error) total += size;
  }
  return total;
}

}  // namespace

Status ComputeStoreStats(const Store& store, StoreStats* stats) {
  *stats = StoreStats();
  stats->format_version = store.format_version();
  stats->last_sequence = store.LastSequence();
  stats->size_on_disk_bytes = DirectorySize(store.path());

  Status status = CountRecords(store, stats);
  if (status.ok()) {
    status = ForEachDelivery(
        store, DeliveryFilter(),
        [stats](const DeliveryRecord& delivery) {
          ++stats->deliveries_per_outcome[std::string(
              OutcomeName(delivery.outcome))];
          return true;
        },
        [stats](uint64_t) { ++stats->malformed; });
  }
  if (status.ok()) {
    status = ForEachConnection(
        store,
        [stats](std::string_view, const Connection& connection) {
          ++stats->connections_per_state[std::string(
              connection.Field(kFieldState))];
          return true;
        },
        [stats](std::string_view) { ++stats->malformed; });
  }
  if (status.ok()) {
    status = CountJobs(store, stats);
  }
  return status;
}

}  // namespace terra::store
