#include "store/committer.h"

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace terra::store {
namespace {

using terra::testing::TempDir;
using Outcome = CommitResult::Outcome;

constexpr auto kWaitLimit = std::chrono::seconds(10);

StoreOptions OptionsFor(const TempDir& dir) {
  StoreOptions options;
  options.path = dir.path().string();
  options.block_cache_bytes = 1 << 20;
  options.write_buffer_bytes = 1 << 20;
  return options;
}

// A request that puts `key` = `value` into `jobs`, deduplicated by
// `dedup_key` (none when empty).
CommitRequest JobRequest(Store* store, const std::string& dedup_key,
                         const std::string& key, const std::string& value) {
  CommitRequest request;
  request.dedup_key = dedup_key;
  request.dedup_value = EncodeDedupEntry(store->NextSequence(), 1000);
  BOOST_REQUIRE(
      request.batch.Put(store->handle(Family::kJobs), key, value).ok());
  return request;
}

// Submits and waits, bounded in time, for the result.
CommitResult SubmitAndWait(Committer* committer, CommitRequest request) {
  auto promise = std::make_shared<std::promise<CommitResult>>();
  std::future<CommitResult> future = promise->get_future();
  committer->Submit(std::move(request), [promise](const CommitResult& result) {
    promise->set_value(result);
  });
  BOOST_REQUIRE(future.wait_for(kWaitLimit) == std::future_status::ready);
  return future.get();
}

// A request that archives delivery `lease` under its sequence, as
// DeliveryApplier does, deduplicated by `dedup_key`.
CommitRequest DeliveryRequest(Store* store, SequenceLease lease,
                              const std::string& dedup_key) {
  CommitRequest request;
  request.dedup_key = dedup_key;
  request.dedup_value = EncodeDedupEntry(lease.sequence(), 1000);
  BOOST_REQUIRE(request.batch
                    .Put(store->handle(Family::kDeliveries),
                         std::to_string(lease.sequence()), "delivery")
                    .ok());
  request.delivery_sequence = std::move(lease);
  return request;
}

// Returns the stored delivery watermark as text, or "<none>".
std::string StoredWatermark(const Store& store) {
  std::string value;
  return store.Get(Family::kMeta, kMetaDeliveryWatermark, &value).ok()
             ? value
             : "<none>";
}

// Waits, bounded in time, until the stored watermark is `expected`.
bool WaitForWatermark(const Store& store, uint64_t expected) {
  auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (StoredWatermark(store) == std::to_string(expected)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string GetJob(const Store& store, const std::string& key) {
  std::string value;
  Status status = store.Get(Family::kJobs, key, &value);
  return status.ok() ? value
                     : "<" +
                           std::string(status.IsNotFound() ? "not found"
                                                           : status.message()) +
                           ">";
}

// Collects results of requests submitted without waiting.
class Results {
 public:
  Committer::Completion Callback(size_t index) {
    return [this, index](const CommitResult& result) {
      std::lock_guard lock(mutex_);
      results_[index].push_back(result);
      ++completions_;
      done_.notify_all();
    };
  }

  explicit Results(size_t count) : results_(count) {}

  bool WaitFor(size_t count) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, kWaitLimit,
                          [&] { return completions_ >= count; });
  }

  std::vector<CommitResult> Of(size_t index) {
    std::lock_guard lock(mutex_);
    return results_[index];
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<std::vector<CommitResult>> results_;
  size_t completions_ = 0;
};

// Holds the committer thread inside a completion, so that requests
// submitted meanwhile queue up and form the next group.
class Blocker {
 public:
  void Hold(Committer* committer, Store* store) {
    std::shared_future<void> released = release_.get_future().share();
    auto entered = std::make_shared<std::promise<void>>();
    std::future<void> entered_future = entered->get_future();
    committer->Submit(JobRequest(store, "", "blocker", "b"),
                      [released, entered](const CommitResult&) {
                        entered->set_value();
                        released.wait_for(kWaitLimit);
                      });
    BOOST_REQUIRE(entered_future.wait_for(kWaitLimit) ==
                  std::future_status::ready);
  }

  void Release() { release_.set_value(); }

 private:
  std::promise<void> release_;
};

class CommitterFixture {
 public:
  CommitterFixture() {
    Status status = Store::Open(OptionsFor(dir_), &store_);
    BOOST_TEST_REQUIRE(status.ok(), status.message());
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

BOOST_FIXTURE_TEST_SUITE(committer, CommitterFixture)

BOOST_AUTO_TEST_CASE(committed_data_readable) {
  Committer committer(store_.get(), CommitterOptions());
  CommitResult result =
      SubmitAndWait(&committer, JobRequest(store_.get(), "trace-1", "k", "v"));
  BOOST_TEST((result.outcome == Outcome::kCommitted));
  BOOST_TEST(result.group_size == 1u);
  BOOST_TEST(GetJob(*store_, "k") == "v");

  std::string dedup;
  BOOST_TEST(store_->Get(Family::kDedup, "trace-1", &dedup).ok());
  uint64_t sequence = 0;
  int64_t received_ms = 0;
  BOOST_TEST(DecodeDedupEntry(dedup, &sequence, &received_ms));
  BOOST_TEST(received_ms == 1000);
}

BOOST_AUTO_TEST_CASE(duplicate_in_later_group) {
  Committer committer(store_.get(), CommitterOptions());
  CommitResult first =
      SubmitAndWait(&committer, JobRequest(store_.get(), "trace-1", "k", "v1"));
  CommitResult second =
      SubmitAndWait(&committer, JobRequest(store_.get(), "trace-1", "k", "v2"));
  BOOST_TEST((first.outcome == Outcome::kCommitted));
  BOOST_TEST((second.outcome == Outcome::kDuplicate));
  BOOST_TEST(GetJob(*store_, "k") == "v1");
  BOOST_TEST(committer.stats().duplicates == 1u);
}

BOOST_AUTO_TEST_CASE(duplicate_in_same_group) {
  Committer committer(store_.get(), CommitterOptions());
  Results results(3);

  Blocker blocker;
  blocker.Hold(&committer, store_.get());
  committer.Submit(JobRequest(store_.get(), "trace-2", "a", "first"),
                   results.Callback(0));
  committer.Submit(JobRequest(store_.get(), "trace-2", "a", "second"),
                   results.Callback(1));
  committer.Submit(JobRequest(store_.get(), "trace-3", "c", "third"),
                   results.Callback(2));
  blocker.Release();
  BOOST_REQUIRE(results.WaitFor(3));

  BOOST_TEST((results.Of(0).at(0).outcome == Outcome::kCommitted));
  BOOST_TEST((results.Of(1).at(0).outcome == Outcome::kDuplicate));
  BOOST_TEST((results.Of(2).at(0).outcome == Outcome::kCommitted));
  BOOST_TEST(results.Of(0).at(0).group_size == 2u);
  BOOST_TEST(GetJob(*store_, "a") == "first");
  BOOST_TEST(GetJob(*store_, "c") == "third");
}

BOOST_AUTO_TEST_CASE(concurrent_submits_complete_once) {
  constexpr size_t kThreads = 8;
  constexpr size_t kPerThread = 50;
  Committer committer(store_.get(), CommitterOptions{.sync = false});
  Results results(kThreads * kPerThread);

  // The requests are built here because Boost.Test assertions (JobRequest
  // has one) are not thread-safe; the threads only submit.
  std::vector<CommitRequest> requests;
  for (size_t index = 0; index < kThreads * kPerThread; ++index) {
    // Every tenth request repeats the trace id of the one before it.
    std::string trace =
        "trace-" + std::to_string(index - (index % kPerThread % 10 == 9));
    requests.push_back(JobRequest(store_.get(), trace,
                                  "job-" + std::to_string(index), "v"));
  }
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < kPerThread; ++i) {
        size_t index = t * kPerThread + i;
        committer.Submit(std::move(requests[index]), results.Callback(index));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  BOOST_REQUIRE(results.WaitFor(kThreads * kPerThread));

  size_t committed = 0;
  size_t duplicates = 0;
  for (size_t index = 0; index < kThreads * kPerThread; ++index) {
    std::vector<CommitResult> of = results.Of(index);
    BOOST_TEST_REQUIRE(of.size() == 1u, "request " << index);
    committed += of[0].outcome == Outcome::kCommitted;
    duplicates += of[0].outcome == Outcome::kDuplicate;
  }
  BOOST_TEST(duplicates == kThreads * kPerThread / 10);
  BOOST_TEST(committed == kThreads * kPerThread - duplicates);
  BOOST_TEST(committer.stats().committed == committed);
  BOOST_TEST(committer.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(stop_drains_queue) {
  Results results(20);
  {
    Committer committer(store_.get(), CommitterOptions{.sync = false});
    for (size_t i = 0; i < 20; ++i) {
      committer.Submit(JobRequest(store_.get(), "", "job-" + std::to_string(i),
                                  std::to_string(i)),
                       results.Callback(i));
    }
    committer.Stop();
    BOOST_TEST(committer.pending() == 0u);
  }
  for (size_t i = 0; i < 20; ++i) {
    BOOST_TEST_REQUIRE(results.Of(i).size() == 1u);
    BOOST_TEST((results.Of(i)[0].outcome == Outcome::kCommitted));
    BOOST_TEST(GetJob(*store_, "job-" + std::to_string(i)) ==
               std::to_string(i));
  }
}

BOOST_AUTO_TEST_CASE(submit_after_stop_fails) {
  Committer committer(store_.get(), CommitterOptions());
  committer.Stop();
  committer.Stop();

  Results results(1);
  committer.Submit(JobRequest(store_.get(), "trace-9", "k", "v"),
                   results.Callback(0));
  BOOST_REQUIRE(results.WaitFor(1));
  BOOST_TEST((results.Of(0).at(0).outcome == Outcome::kFailed));
  BOOST_TEST((results.Of(0).at(0).status.code() == Status::Code::kBusy));
  BOOST_TEST(GetJob(*store_, "k") == "<not found>");
}

BOOST_AUTO_TEST_CASE(large_request_forms_own_group) {
  CommitterOptions options;
  options.max_group_bytes = 1024;
  Committer committer(store_.get(), options);
  Results results(3);

  Blocker blocker;
  blocker.Hold(&committer, store_.get());
  committer.Submit(JobRequest(store_.get(), "", "small-1", "s"),
                   results.Callback(0));
  committer.Submit(
      JobRequest(store_.get(), "", "large", std::string(4096, 'x')),
      results.Callback(1));
  committer.Submit(JobRequest(store_.get(), "", "small-2", "s"),
                   results.Callback(2));
  blocker.Release();
  BOOST_REQUIRE(results.WaitFor(3));

  BOOST_TEST(results.Of(0).at(0).group_size == 1u);
  BOOST_TEST(results.Of(1).at(0).group_size == 1u);
  BOOST_TEST((results.Of(1).at(0).outcome == Outcome::kCommitted));
  BOOST_TEST(GetJob(*store_, "large").size() == 4096u);
}

BOOST_AUTO_TEST_CASE(last_sequence_persisted) {
  uint64_t last = 0;
  {
    Committer committer(store_.get(), CommitterOptions());
    for (int i = 0; i < 3; ++i) {
      CommitResult result = SubmitAndWait(
          &committer,
          JobRequest(store_.get(), "", "k" + std::to_string(i), "v"));
      BOOST_TEST((result.outcome == Outcome::kCommitted));
    }
    last = store_->LastSequence();
  }
  store_.reset();

  Status status = Store::Open(OptionsFor(dir_), &store_);
  BOOST_TEST_REQUIRE(status.ok(), status.message());
  BOOST_TEST(store_->LastSequence() == last);
  BOOST_TEST(store_->NextSequence() == last + 1);
}

BOOST_AUTO_TEST_CASE(watermark_below_open_delivery) {
  Committer committer(store_.get(), CommitterOptions());
  SequenceLease open = store_->OpenDeliverySequence();
  SequenceLease later = store_->OpenDeliverySequence();
  uint64_t later_sequence = later.sequence();

  CommitResult result = SubmitAndWait(
      &committer, DeliveryRequest(store_.get(), std::move(later), "later"));
  BOOST_TEST((result.outcome == Outcome::kCommitted));
  BOOST_TEST(StoredWatermark(*store_) == std::to_string(open.sequence() - 1));
  BOOST_TEST(store_->sequences().open_count() == 1u);

  // Dropping the open delivery closes it; the idle committer then writes
  // the watermark past both.
  open.Reset();
  BOOST_TEST(WaitForWatermark(*store_, later_sequence));
}

BOOST_AUTO_TEST_CASE(watermark_passes_own_group) {
  Committer committer(store_.get(), CommitterOptions());
  SequenceLease lease = store_->OpenDeliverySequence();
  uint64_t sequence = lease.sequence();

  CommitResult result = SubmitAndWait(
      &committer, DeliveryRequest(store_.get(), std::move(lease), "only"));
  BOOST_TEST((result.outcome == Outcome::kCommitted));
  BOOST_TEST(StoredWatermark(*store_) == std::to_string(sequence));
  BOOST_TEST(store_->sequences().open_count() == 0u);
}

BOOST_AUTO_TEST_CASE(watermark_passes_duplicate) {
  Committer committer(store_.get(), CommitterOptions());
  CommitResult first = SubmitAndWait(
      &committer,
      DeliveryRequest(store_.get(), store_->OpenDeliverySequence(), "trace"));
  SequenceLease repeat = store_->OpenDeliverySequence();
  uint64_t repeat_sequence = repeat.sequence();
  CommitResult second = SubmitAndWait(
      &committer, DeliveryRequest(store_.get(), std::move(repeat), "trace"));

  BOOST_TEST((first.outcome == Outcome::kCommitted));
  BOOST_TEST((second.outcome == Outcome::kDuplicate));
  BOOST_TEST(WaitForWatermark(*store_, repeat_sequence));
  BOOST_TEST(store_->sequences().open_count() == 0u);
}

BOOST_AUTO_TEST_CASE(restart_continues_above_watermark) {
  uint64_t dropped = 0;
  {
    Committer committer(store_.get(), CommitterOptions());
    dropped = store_->OpenDeliverySequence().sequence();
    BOOST_TEST(WaitForWatermark(*store_, dropped));
  }
  store_.reset();

  // The dropped delivery committed nothing, but a follower may have passed
  // its sequence, so a new delivery must not take it again.
  Status status = Store::Open(OptionsFor(dir_), &store_);
  BOOST_TEST_REQUIRE(status.ok(), status.message());
  BOOST_TEST(store_->OpenDeliverySequence().sequence() > dropped);
}

BOOST_AUTO_TEST_CASE(held_request_commits_last) {
  CommitterOptions options;
  options.test_delay = std::chrono::milliseconds(300);
  options.test_hold_key = "held";
  Results results(2);
  Committer committer(store_.get(), options);
  committer.Submit(JobRequest(store_.get(), "held", "held", "h"),
                   results.Callback(0));
  committer.Submit(JobRequest(store_.get(), "next", "next", "n"),
                   results.Callback(1));

  BOOST_REQUIRE(results.WaitFor(1));
  BOOST_TEST(results.Of(1).size() == 1u);
  BOOST_TEST(results.Of(0).empty());
  BOOST_REQUIRE(results.WaitFor(2));
  BOOST_TEST((results.Of(0).at(0).outcome == Outcome::kCommitted));
  BOOST_TEST(GetJob(*store_, "held") == "h");
}

BOOST_AUTO_TEST_CASE(dedup_entry_round_trip) {
  uint64_t sequence = 0;
  int64_t received_ms = 0;
  BOOST_TEST(
      DecodeDedupEntry(EncodeDedupEntry(42, -7), &sequence, &received_ms));
  BOOST_TEST(sequence == 42u);
  BOOST_TEST(received_ms == -7);
  BOOST_TEST(!DecodeDedupEntry("short", &sequence, &received_ms));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::store
