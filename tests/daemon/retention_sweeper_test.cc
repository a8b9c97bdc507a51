#include "daemon/retention_sweeper.h"

#include <rocksdb/write_batch.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "daemon/service_metrics.h"
#include "store/committer.h"
#include "store/delivery_record.h"
#include "store/keys.h"
#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace terra::daemon {
namespace {

using std::chrono::system_clock;
using terra::testing::TempDir;

constexpr auto kWaitLimit = std::chrono::seconds(10);
const system_clock::time_point kNow{
    std::chrono::milliseconds(1'796'400'000'000)};

std::unique_ptr<store::Store> OpenStore(const TempDir& dir) {
  store::StoreOptions options;
  options.path = dir.path().string();
  options.block_cache_bytes = 1 << 20;
  options.write_buffer_bytes = 1 << 20;
  std::unique_ptr<store::Store> opened;
  store::Status status = store::Store::Open(options, &opened);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
  return opened;
}

// Archives a delivery received `age` before kNow. Returns its sequence.
uint64_t Archive(store::Store* store, std::chrono::hours age) {
  store::DeliveryRecord record;
  record.sequence = store->NextSequence();
  record.received_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           (kNow - age).time_since_epoch())
                           .count();
  record.trace_id = "trace-" + std::to_string(record.sequence);
  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(batch
                    .Put(store->handle(store::Family::kDeliveries),
                         store::EncodeSequenceKey(record.sequence),
                         store::EncodeDeliveryRecord(record))
                    .ok());
  BOOST_REQUIRE(store->Write(&batch, /*sync=*/false).ok());
  return record.sequence;
}

bool HasDelivery(const store::Store& store, uint64_t sequence) {
  std::string value;
  return store
      .Get(store::Family::kDeliveries, store::EncodeSequenceKey(sequence),
           &value)
      .ok();
}

// Waits, bounded in time, until `sweeper` has finished `count` sweeps.
bool WaitForSweeps(const RetentionSweeper& sweeper, uint64_t count) {
  auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (sweeper.sweeps() >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

BOOST_AUTO_TEST_SUITE(retention_sweeper)

BOOST_AUTO_TEST_CASE(first_sweep_deletes_expired) {
  TempDir dir;
  std::unique_ptr<store::Store> store = OpenStore(dir);
  uint64_t old = Archive(store.get(), std::chrono::hours(24 * 31));
  uint64_t recent = Archive(store.get(), std::chrono::hours(1));
  ServiceMetrics metrics;
  RetentionSweeper sweeper(store.get(), 30, 0, &metrics, [] { return kNow; });

  sweeper.Start(std::chrono::hours(1));
  BOOST_REQUIRE(WaitForSweeps(sweeper, 1));
  sweeper.Stop();

  BOOST_TEST(sweeper.deleted() == 1u);
  BOOST_TEST(!HasDelivery(*store, old));
  BOOST_TEST(HasDelivery(*store, recent));
  BOOST_TEST(metrics.registry.Render().find(
                 "terra_deliveries_expired_total 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(zero_days_keeps_everything) {
  TempDir dir;
  std::unique_ptr<store::Store> store = OpenStore(dir);
  uint64_t old = Archive(store.get(), std::chrono::hours(24 * 3650));
  RetentionSweeper sweeper(store.get(), 0, 0, nullptr, [] { return kNow; });

  sweeper.Start(std::chrono::hours(1));
  BOOST_REQUIRE(WaitForSweeps(sweeper, 1));
  sweeper.Stop();

  BOOST_TEST(sweeper.deleted() == 0u);
  BOOST_TEST(HasDelivery(*store, old));
}

BOOST_AUTO_TEST_CASE(reload_applies_to_next_sweep) {
  TempDir dir;
  std::unique_ptr<store::Store> store = OpenStore(dir);
  uint64_t ten_days = Archive(store.get(), std::chrono::hours(24 * 10));
  uint64_t recent = Archive(store.get(), std::chrono::hours(1));
  RetentionSweeper sweeper(store.get(), 30, 0, nullptr, [] { return kNow; });

  sweeper.Start(std::chrono::seconds(1));
  BOOST_REQUIRE(WaitForSweeps(sweeper, 1));
  BOOST_TEST(HasDelivery(*store, ten_days));
  sweeper.SetRetentionDays(7);
  BOOST_REQUIRE(WaitForSweeps(sweeper, 3));
  sweeper.Stop();

  BOOST_TEST(!HasDelivery(*store, ten_days));
  BOOST_TEST(HasDelivery(*store, recent));
}

BOOST_AUTO_TEST_CASE(stop_returns_while_waiting) {
  TempDir dir;
  std::unique_ptr<store::Store> store = OpenStore(dir);
  RetentionSweeper sweeper(store.get(), 30, 0, nullptr, [] { return kNow; });
  sweeper.Start(std::chrono::hours(1));
  BOOST_REQUIRE(WaitForSweeps(sweeper, 1));

  auto started = std::chrono::steady_clock::now();
  sweeper.Stop();
  auto elapsed = std::chrono::steady_clock::now() - started;

  BOOST_TEST(
      (elapsed < kWaitLimit),
      "Stop took " << std::chrono::duration<double>(elapsed).count() << " s");
}

BOOST_AUTO_TEST_CASE(finished_jobs_expire) {
  TempDir dir;
  std::unique_ptr<store::Store> store = OpenStore(dir);
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       kNow.time_since_epoch())
                       .count();
  int64_t old_ms = now_ms - int64_t{31} * 24 * 60 * 60 * 1000;
  uint64_t old = store->NextSequence();
  uint64_t recent = store->NextSequence();
  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(batch
                    .Put(store->handle(store::Family::kJobs),
                         store::EncodeSequenceKey(old),
                         R"({"state":"done","created_ms":)" +
                             std::to_string(old_ms) + R"(,"finished_ms":)" +
                             std::to_string(old_ms) + "}")
                    .ok());
  BOOST_REQUIRE(batch
                    .Put(store->handle(store::Family::kJobs),
                         store::EncodeSequenceKey(recent),
                         R"({"state":"done","created_ms":)" +
                             std::to_string(now_ms) + R"(,"finished_ms":)" +
                             std::to_string(now_ms) + "}")
                    .ok());
  BOOST_REQUIRE(store->Write(&batch, /*sync=*/false).ok());
  ServiceMetrics metrics;
  RetentionSweeper sweeper(store.get(), 0, 30, &metrics, [] { return kNow; });

  sweeper.Start(std::chrono::hours(1));
  BOOST_REQUIRE(WaitForSweeps(sweeper, 1));
  sweeper.Stop();

  std::string value;
  BOOST_TEST(sweeper.jobs_deleted() == 1u);
  BOOST_TEST(
      !store->Get(store::Family::kJobs, store::EncodeSequenceKey(old), &value)
           .ok());
  BOOST_TEST(
      store->Get(store::Family::kJobs, store::EncodeSequenceKey(recent), &value)
          .ok());
  BOOST_TEST(metrics.registry.Render().find("terra_jobs_expired_total 1") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::daemon
