#include "tools/replay_into.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "daemon/webhook_handler.h"
#include "store/committer.h"
#include "store/delivery_applier.h"
#include "store/store.h"
#include "tools/exit_codes.h"
#include "tools/progress_line.h"
#include "tools/stop_signals.h"
#include "tools/store_opener.h"

namespace terra::tools {
namespace {

constexpr std::string_view kPrefix = "terra-syncctl replay: ";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Builds the delivery to apply, with the ordering time from ReplayOrderingMs.
// A plain body has no received or ordering time, so it counts as received
// and signed now, like a fresh webhook.
store::Delivery ToDelivery(store::DeliveryRecord record, std::string trace_id) {
  int64_t now_ms = NowMs();
  store::Delivery delivery;
  delivery.received_ms = record.received_ms != 0 ? record.received_ms : now_ms;
  delivery.source = store::Source::kReplay;
  delivery.trace_id = std::move(trace_id);
  delivery.terra_reference = std::move(record.terra_reference);
  delivery.ordering_header_ms = record.ordering_header_ms;
  delivery.signed_at_s =
      record.signed_at_s != 0 ? record.signed_at_s : now_ms / 1000;
  delivery.ordering_ms = ReplayOrderingMs(record).value_or(now_ms);
  delivery.body = std::move(record.body);
  return delivery;
}

// Deliveries applied but not yet committed, at most kMaxInFlight, so that
// reading and parsing the next ones overlaps with the committer's writes.
// Merges do not depend on the order of commits, but applying a delivery
// reads which connection its user id maps to. So the pipeline is drained
// after the first delivery of each user id (which may create the
// connection) and before and after a `user_reauth` (which moves a user id),
// and every delivery sees the mappings that a one-at-a-time replay would.
class CommitPipeline {
 public:
  // Enough to keep the committer's groups full. Each in-flight delivery
  // keeps its body in memory.
  static constexpr size_t kMaxInFlight = 256;

  CommitPipeline(store::Committer* committer, ReplayTally* tally,
                 std::ostream& err)
      : committer_(committer), tally_(tally), err_(err) {}

  // Applies one delivery and hands it to the committer. Returns false once
  // the store has failed, after writing why to `err`.
  bool Apply(store::Delivery delivery, const store::DeliveryApplier& applier) {
    bool changes_mapping =
        delivery.body.find("\"user_reauth\"") != std::string::npos;
    if (changes_mapping) {
      Drain();
    }

    auto applied = std::make_shared<store::AppliedDelivery>();
    if (store::Status status =
            applier.Apply(std::move(delivery), applied.get());
        !status.ok()) {
      std::lock_guard lock(mutex_);
      err_ << kPrefix << status.message() << "\n";
      tally_->Failed("store read failed");
      failed_ = true;
      return false;
    }

    {
      std::unique_lock lock(mutex_);
      room_.wait(lock, [this] { return in_flight_ < kMaxInFlight; });
      ++in_flight_;
    }
    committer_->Submit(std::move(applied->request),
                       [this, applied](const store::CommitResult& result) {
                         Count(*applied, result);
                       });
    bool first_of_user = !applied->user_id.empty() &&
                         seen_users_.insert(applied->user_id).second;
    if (changes_mapping || first_of_user) {
      Drain();
    }
    std::lock_guard lock(mutex_);
    return !failed_;
  }

  // Waits until every submitted delivery is committed or failed.
  void Drain() {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [this] { return in_flight_ == 0; });
  }

  uint64_t total() const {
    std::lock_guard lock(mutex_);
    return tally_->total();
  }

  bool failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }

 private:
  // Counts a result; runs on the committer thread.
  void Count(const store::AppliedDelivery& applied,
             const store::CommitResult& result) {
    std::lock_guard lock(mutex_);
    using Outcome = store::CommitResult::Outcome;
    if (result.outcome == Outcome::kFailed) {
      err_ << kPrefix << result.status.message() << "\n";
      tally_->Failed("store write failed");
      failed_ = true;
    } else if (result.outcome == Outcome::kDuplicate) {
      tally_->Duplicate();
    } else {
      tally_->Applied(store::OutcomeName(applied.outcome));
    }
    --in_flight_;
    room_.notify_all();
  }

  store::Committer* committer_;
  ReplayTally* tally_;
  std::ostream& err_;
  mutable std::mutex mutex_;
  std::condition_variable room_;
  size_t in_flight_ = 0;
  bool failed_ = false;
  std::unordered_set<std::string> seen_users_;  // used by Apply's thread only
};

// Writes why a replay stopped before the end of its input, and how to go on.
void ReportStop(int signal, uint64_t kept, const TraceIdPolicy& trace_ids,
                std::ostream& err) {
  err << kPrefix << "stopped by signal " << signal << " after " << kept
      << " deliveries, which the store keeps; ";
  if (trace_ids.new_trace_ids) {
    err << "a second run with --new-trace-ids would apply them again\n";
  } else {
    err << "run the same command again to apply the rest (the kept ones "
           "count as duplicates)\n";
  }
}

}  // namespace

int ReplayInto(const ReplayInput& input, const ReplayIntoOptions& options,
               ReplayTally* tally, std::ostream& out, std::ostream& err) {
  if (options.dry_run) {
    return ListReplayInput(input, options.trace_ids, "would apply", tally, out,
                           err);
  }
  // Without a write-ahead log, a crash loses the deliveries since the last
  // flush together with their dedup entries, so a second run applies them
  // again. The final Flush makes the result durable, also after SIGINT.
  InstallStopHandlers();
  std::unique_ptr<store::Store> store;
  if (int code = OpenPrimaryStore(
          options.store_path, options.write_buffer_bytes, kPrefix, err, &store);
      code != kExitOk) {
    return code;
  }
  store::CommitterOptions committer_options;
  committer_options.sync = false;
  store::Committer committer(store.get(), committer_options);
  store::DeliveryApplier applier(store.get(), store::ApplierOptions());
  ProgressLine progress(err);
  CommitPipeline pipeline(&committer, tally, err);
  uint64_t index = 0;

  int code = ReadReplayInput(
      input,
      [&](store::DeliveryRecord record, double fraction) {
        if (StopRequested()) {
          return false;
        }
        std::string trace_id =
            ReplayTraceId(record, options.trace_ids, index++);
        bool ok =
            pipeline.Apply(ToDelivery(std::move(record), trace_id), applier);
        progress.Update(pipeline.total(), fraction);
        return ok;
      },
      tally, err);
  // A signal that arrives once the input is read stops nothing.
  int stopped_by = StopSignal();
  pipeline.Drain();
  progress.Finish();
  bool store_failed = pipeline.failed();

  committer.Stop();
  if (store::Status status = store->Flush(); !status.ok()) {
    err << kPrefix << status.message()
        << "; the deliveries applied since the store's last flush are not "
           "kept: fix the cause and run the same command again\n";
    return kExitStoreError;
  }
  if (stopped_by != 0) {
    ReportStop(stopped_by, pipeline.total(), options.trace_ids, err);
    return kExitSignalBase + stopped_by;
  }
  return store_failed ? kExitStoreError : code;
}

}  // namespace terra::tools
