#include "store/retention.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <vector>

#include "store/committer.h"
#include "store/delivery_record.h"
#include "store/keys.h"
#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace terra::store {
namespace {

using terra::testing::TempDir;

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;
constexpr int64_t kNowMs = 1'796'400'000'000;
constexpr int64_t kCutoffMs = kNowMs - 30 * kDayMs;

StoreOptions OptionsFor(const TempDir& dir) {
  StoreOptions options;
  options.path = dir.path().string();
  options.block_cache_bytes = 1 << 20;
  options.write_buffer_bytes = 1 << 20;
  return options;
}

std::unique_ptr<Store> OpenStore(const TempDir& dir) {
  std::unique_ptr<Store> store;
  Status status = Store::Open(OptionsFor(dir), &store);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
  return store;
}

// Archives one delivery received at `received_ms` with its dedup entry, as
// the committer does, and returns its sequence.
uint64_t Archive(Store* store, int64_t received_ms) {
  uint64_t sequence = store->NextSequence();
  DeliveryRecord record;
  record.sequence = sequence;
  record.received_ms = received_ms;
  record.trace_id = "trace-" + std::to_string(sequence);
  record.body = R"({"type":"healthcheck"})";
  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(batch
                    .Put(store->handle(Family::kDeliveries),
                         EncodeSequenceKey(sequence),
                         EncodeDeliveryRecord(record))
                    .ok());
  BOOST_REQUIRE(batch
                    .Put(store->handle(Family::kDedup), record.trace_id,
                         EncodeDedupEntry(sequence, received_ms))
                    .ok());
  BOOST_REQUIRE(store->Write(&batch, /*sync=*/false).ok());
  return sequence;
}

bool HasDelivery(const Store& store, uint64_t sequence) {
  std::string value;
  return store.Get(Family::kDeliveries, EncodeSequenceKey(sequence), &value)
      .ok();
}

bool HasDedup(const Store& store, uint64_t sequence) {
  std::string value;
  return store.Get(Family::kDedup, "trace-" + std::to_string(sequence), &value)
      .ok();
}

ExpiryPass Expire(Store* store, size_t max_entries = 1000) {
  ExpiryPass pass;
  Status status =
      ExpireDeliveries(store, kCutoffMs, kNowMs, max_entries, &pass);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
  return pass;
}

BOOST_AUTO_TEST_SUITE(retention)

BOOST_AUTO_TEST_CASE(expires_old_prefix_only) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  std::vector<uint64_t> old;
  for (int i = 0; i < 3; ++i)
    old.push_back(Archive(store.get(), kCutoffMs - kDayMs));
  uint64_t recent = Archive(store.get(), kNowMs);

  ExpiryPass pass = Expire(store.get());

  BOOST_TEST(pass.deleted == 3u);
  BOOST_TEST(pass.complete);
  BOOST_TEST(pass.expired_before == recent);
  BOOST_TEST(store->deliveries_expired_before() == recent);
  for (uint64_t sequence : old) {
    BOOST_TEST(!HasDelivery(*store, sequence), "sequence " << sequence);
  }
  BOOST_TEST(HasDelivery(*store, recent));
}

BOOST_AUTO_TEST_CASE(keeps_old_delivery_after_recent_one) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  uint64_t expired = Archive(store.get(), kCutoffMs - 1);
  uint64_t at_cutoff = Archive(store.get(), kCutoffMs);
  uint64_t replayed = Archive(store.get(), kCutoffMs - 10 * kDayMs);

  ExpiryPass pass = Expire(store.get());

  BOOST_TEST(pass.deleted == 1u);
  BOOST_TEST(!HasDelivery(*store, expired));
  BOOST_TEST(HasDelivery(*store, at_cutoff));
  BOOST_TEST(HasDelivery(*store, replayed));
}

BOOST_AUTO_TEST_CASE(bounded_passes_continue) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  std::vector<uint64_t> old;
  for (int i = 0; i < 5; ++i)
    old.push_back(Archive(store.get(), kCutoffMs - kDayMs));
  uint64_t recent = Archive(store.get(), kNowMs);

  ExpiryPass first = Expire(store.get(), 2);
  BOOST_TEST(first.deleted == 2u);
  BOOST_TEST(!first.complete);
  BOOST_TEST(first.expired_before == old[2]);

  ExpiryPass second = Expire(store.get(), 2);
  BOOST_TEST(second.deleted == 2u);
  BOOST_TEST(!second.complete);

  ExpiryPass third = Expire(store.get(), 2);
  BOOST_TEST(third.deleted == 1u);
  BOOST_TEST(third.complete);
  BOOST_TEST(third.expired_before == recent);

  ExpiryPass idle = Expire(store.get(), 2);
  BOOST_TEST(idle.deleted == 0u);
  BOOST_TEST(idle.complete);
  BOOST_TEST(idle.expired_before == recent);
}

BOOST_AUTO_TEST_CASE(malformed_entry_goes_with_neighbors) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  uint64_t before = Archive(store.get(), kCutoffMs - kDayMs);
  uint64_t malformed = store->NextSequence();
  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(batch
                    .Put(store->handle(Family::kDeliveries),
                         EncodeSequenceKey(malformed), "not a delivery record")
                    .ok());
  BOOST_REQUIRE(store->Write(&batch, /*sync=*/false).ok());
  uint64_t after = Archive(store.get(), kCutoffMs - kDayMs);
  uint64_t recent = Archive(store.get(), kNowMs);

  ExpiryPass pass = Expire(store.get());

  BOOST_TEST(pass.deleted == 3u);
  BOOST_TEST(pass.undated == 1u);
  BOOST_TEST(!HasDelivery(*store, before));
  BOOST_TEST(!HasDelivery(*store, malformed));
  BOOST_TEST(!HasDelivery(*store, after));
  BOOST_TEST(HasDelivery(*store, recent));
}

BOOST_AUTO_TEST_CASE(future_time_does_not_block) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  uint64_t future = Archive(store.get(), kNowMs + 2 * kDayMs);
  uint64_t old = Archive(store.get(), kCutoffMs - kDayMs);
  uint64_t last_future = Archive(store.get(), kNowMs + 365 * kDayMs);
  uint64_t recent = Archive(store.get(), kNowMs);

  ExpiryPass pass = Expire(store.get());

  BOOST_TEST(pass.deleted == 2u);
  BOOST_TEST(pass.undated == 1u);
  BOOST_TEST(!HasDelivery(*store, future));
  BOOST_TEST(!HasDelivery(*store, old));
  BOOST_TEST(HasDelivery(*store, last_future));
  BOOST_TEST(HasDelivery(*store, recent));
}

BOOST_AUTO_TEST_CASE(slightly_ahead_time_counts) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  uint64_t ahead = Archive(store.get(), kNowMs + 60 * 60 * 1000);
  uint64_t old = Archive(store.get(), kCutoffMs - kDayMs);

  ExpiryPass pass = Expire(store.get());

  BOOST_TEST(pass.deleted == 0u);
  BOOST_TEST(HasDelivery(*store, ahead));
  BOOST_TEST(HasDelivery(*store, old));
}

BOOST_AUTO_TEST_CASE(periodic_compaction_for_dedup) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);

  rocksdb::Options dedup =
      store->db()->GetOptions(store->handle(Family::kDedup));
  rocksdb::Options records =
      store->db()->GetOptions(store->handle(Family::kRecords));

  BOOST_TEST(dedup.periodic_compaction_seconds == 24u * 60 * 60);
  BOOST_TEST(dedup.compaction_filter_factory != nullptr);
  BOOST_TEST(records.compaction_filter_factory == nullptr);
}

BOOST_AUTO_TEST_CASE(stops_at_open_delivery) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  uint64_t committed = Archive(store.get(), kCutoffMs - kDayMs);
  SequenceLease open = store->OpenDeliverySequence();
  uint64_t later = Archive(store.get(), kCutoffMs - kDayMs);

  ExpiryPass pass = Expire(store.get());

  BOOST_TEST(pass.deleted == 1u);
  BOOST_TEST(pass.expired_before == committed + 1);
  BOOST_TEST(!HasDelivery(*store, committed));
  BOOST_TEST(HasDelivery(*store, later));
  BOOST_TEST(open.sequence() == committed + 1);
}

BOOST_AUTO_TEST_CASE(dedup_entries_dropped_by_compaction) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  uint64_t old = Archive(store.get(), kCutoffMs - kDayMs);
  uint64_t recent = Archive(store.get(), kNowMs);
  BOOST_REQUIRE(store->Flush().ok());

  Expire(store.get());
  BOOST_TEST(HasDedup(*store, old), "dedup entries stay until a compaction");
  BOOST_REQUIRE(store->CompactFamily(Family::kDedup).ok());

  BOOST_TEST(!HasDedup(*store, old));
  BOOST_TEST(HasDedup(*store, recent));
}

BOOST_AUTO_TEST_CASE(expiry_survives_reopen) {
  TempDir dir;
  uint64_t old = 0;
  uint64_t recent = 0;
  {
    std::unique_ptr<Store> store = OpenStore(dir);
    old = Archive(store.get(), kCutoffMs - kDayMs);
    recent = Archive(store.get(), kNowMs);
    Expire(store.get());
  }

  std::unique_ptr<Store> store = OpenStore(dir);
  BOOST_TEST(store->deliveries_expired_before() == recent);
  BOOST_TEST(!HasDelivery(*store, old));
  BOOST_REQUIRE(store->CompactFamily(Family::kDedup).ok());
  BOOST_TEST(!HasDedup(*store, old));
  BOOST_TEST(HasDedup(*store, recent));
}

// Writes a job with `state`, created and (when finished) finished at the
// given times, under a new id, and returns the id.
uint64_t PutJob(Store* store, const std::string& state, int64_t created_ms,
                int64_t finished_ms) {
  uint64_t id = store->NextSequence();
  std::string job = R"({"kind":"reconcile","state":")" + state +
                    R"(","created_ms":)" + std::to_string(created_ms);
  if (state == "done" || state == "failed") {
    job += R"(,"finished_ms":)" + std::to_string(finished_ms);
  }
  job += "}";
  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(
      batch.Put(store->handle(Family::kJobs), EncodeSequenceKey(id), job).ok());
  BOOST_REQUIRE(store->Write(&batch, /*sync=*/false).ok());
  return id;
}

bool HasJob(const Store& store, uint64_t id) {
  std::string value;
  return store.Get(Family::kJobs, EncodeSequenceKey(id), &value).ok();
}

JobExpiryPass ExpireJobsFrom(Store* store, uint64_t from,
                             size_t max_entries = 1000) {
  JobExpiryPass pass;
  Status status = ExpireJobs(store, kCutoffMs, from, max_entries, &pass);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
  return pass;
}

BOOST_AUTO_TEST_CASE(finished_old_jobs_deleted) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  int64_t old = kCutoffMs - 2 * kDayMs;
  uint64_t done = PutJob(store.get(), "done", old, old + 1000);
  uint64_t stuck = PutJob(store.get(), "running", old, 0);
  uint64_t failed = PutJob(store.get(), "failed", old, old + 2000);
  uint64_t late = PutJob(store.get(), "done", old, kCutoffMs + 1000);
  uint64_t malformed = store->NextSequence();
  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(batch
                    .Put(store->handle(Family::kJobs),
                         EncodeSequenceKey(malformed), "not a job")
                    .ok());
  BOOST_REQUIRE(store->Write(&batch, /*sync=*/false).ok());
  uint64_t recent = PutJob(store.get(), "done", kNowMs, kNowMs);
  uint64_t after_recent = PutJob(store.get(), "done", old, old);

  JobExpiryPass pass = ExpireJobsFrom(store.get(), 0);

  BOOST_TEST(pass.deleted == 2u);
  BOOST_TEST(pass.complete);
  BOOST_TEST(pass.next == stuck);
  BOOST_TEST(!HasJob(*store, done));
  BOOST_TEST(HasJob(*store, stuck));
  BOOST_TEST(!HasJob(*store, failed));
  BOOST_TEST(HasJob(*store, late));
  BOOST_TEST(HasJob(*store, malformed));
  BOOST_TEST(HasJob(*store, recent));
  BOOST_TEST(HasJob(*store, after_recent),
             "jobs after one created past "
             "the cutoff are not read");
}

BOOST_AUTO_TEST_CASE(job_passes_continue) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir);
  int64_t old = kCutoffMs - 2 * kDayMs;
  std::vector<uint64_t> done;
  for (int i = 0; i < 5; ++i)
    done.push_back(PutJob(store.get(), "done", old, old));
  uint64_t recent = PutJob(store.get(), "queued", kNowMs, 0);

  JobExpiryPass first = ExpireJobsFrom(store.get(), 0, 2);
  JobExpiryPass second = ExpireJobsFrom(store.get(), first.next, 2);
  JobExpiryPass third = ExpireJobsFrom(store.get(), second.next, 2);

  BOOST_TEST(first.deleted == 2u);
  BOOST_TEST(!first.complete);
  BOOST_TEST(first.next == done[2]);
  BOOST_TEST(second.deleted == 2u);
  BOOST_TEST(third.deleted == 1u);
  BOOST_TEST(third.complete);
  BOOST_TEST(third.next == done[4] + 1);
  for (uint64_t id : done) {
    BOOST_TEST(!HasJob(*store, id), "job " << id);
  }
  BOOST_TEST(HasJob(*store, recent));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::store
