#include "tools/replay_into.h"

#include <chrono>
#include <future>
#include <memory>

#include "store/committer.h"
#include "store/delivery_applier.h"
#include "store/store.h"
#include "tools/exit_codes.h"
#include "tools/progress_line.h"
#include "tools/store_opener.h"

namespace terra::tools {
namespace {

constexpr std::string_view kPrefix = "terra-syncctl replay: ";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Builds the delivery to apply. A plain body has no received or ordering
// time, so it counts as received now, like a fresh webhook.
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
  delivery.ordering_ms = record.ordering_ms != 0 ? record.ordering_ms : now_ms;
  delivery.body = std::move(record.body);
  return delivery;
}

// Applies and commits one delivery, then counts its result. Returns false
// if the store failed, after writing why to `err`.
bool ApplyOne(store::Delivery delivery, const store::DeliveryApplier& applier,
              store::Committer* committer, ReplayTally* tally,
              std::ostream& err) {
  store::AppliedDelivery applied;
  if (store::Status status = applier.Apply(std::move(delivery), &applied);
      !status.ok()) {
    err << kPrefix << status.message() << "\n";
    tally->Failed("store read failed");
    return false;
  }

  std::promise<store::CommitResult> promise;
  std::future<store::CommitResult> future = promise.get_future();
  committer->Submit(std::move(applied.request),
                    [&promise](const store::CommitResult& result) {
                      promise.set_value(result);
                    });
  store::CommitResult result = future.get();

  using Outcome = store::CommitResult::Outcome;
  if (result.outcome == Outcome::kFailed) {
    err << kPrefix << result.status.message() << "\n";
    tally->Failed("store write failed");
    return false;
  }
  if (result.outcome == Outcome::kDuplicate) {
    tally->Duplicate();
  } else {
    tally->Applied(store::OutcomeName(applied.outcome));
  }
  return true;
}

int ListOnly(const ReplayInput& input, const ReplayIntoOptions& options,
             ReplayTally* tally, std::ostream& out, std::ostream& err) {
  uint64_t index = 0;
  return ReadReplayInput(
      input,
      [&](store::DeliveryRecord record, double) {
        std::string trace_id =
            ReplayTraceId(record, options.trace_ids, index++);
        out << DescribeDelivery("would apply", record, trace_id) << "\n";
        tally->Planned();
        return true;
      },
      tally, err);
}

}  // namespace

int ReplayInto(const ReplayInput& input, const ReplayIntoOptions& options,
               ReplayTally* tally, std::ostream& out, std::ostream& err) {
  if (options.dry_run) {
    return ListOnly(input, options, tally, out, err);
  }
  std::unique_ptr<store::Store> store;
  if (int code = OpenPrimaryStore(options.store_path, kPrefix, err, &store);
      code != kExitOk) {
    return code;
  }

  // Unsynced commits: a crash mid-replay loses only deliveries that a second
  // run applies again, and the final Flush makes the result durable.
  store::CommitterOptions committer_options;
  committer_options.sync = false;
  store::Committer committer(store.get(), committer_options);
  store::DeliveryApplier applier(store.get(), store::ApplierOptions());
  ProgressLine progress(err);
  bool store_failed = false;
  uint64_t index = 0;

  int code = ReadReplayInput(
      input,
      [&](store::DeliveryRecord record, double fraction) {
        std::string trace_id =
            ReplayTraceId(record, options.trace_ids, index++);
        store_failed = !ApplyOne(ToDelivery(std::move(record), trace_id),
                                 applier, &committer, tally, err);
        progress.Update(tally->total(), fraction);
        return !store_failed;
      },
      tally, err);
  progress.Finish();

  committer.Stop();
  if (store::Status status = store->Flush(); !status.ok()) {
    err << kPrefix << status.message() << "\n";
    return kExitStoreError;
  }
  return store_failed ? kExitStoreError : code;
}

}  // namespace terra::tools
