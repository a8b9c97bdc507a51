#include "tools/follow.h"

#include <signal.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "store/store.h"
#include "tools/capture_format.h"
#include "tools/dump_selectors.h"

namespace terra::tools {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Granularity of the sleep between polls, so that a signal ends it quickly.
constexpr auto kSleepSlice = std::chrono::milliseconds(50);

std::atomic<bool> stop_requested{false};

void OnStopSignal(int) { stop_requested.store(true); }

void SleepUnlessStopped(std::chrono::milliseconds duration) {
  auto deadline = SteadyClock::now() + duration;
  while (!StopRequested() && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(kSleepSlice);
  }
}

// Reads the deliveries committed since the previous poll. Deliveries above
// `settled_` are read again on each poll for kFollowSettleTime, and `seen_`
// keeps them from being reported twice.
class DeliveryTail {
 public:
  DeliveryTail(store::Store* store, store::DeliveryFilter filter,
               uint64_t after_sequence)
      : store_(store), filter_(std::move(filter)), settled_(after_sequence) {}

  store::Status Poll(
      const std::function<void(const store::DeliveryRecord&)>& visit,
      std::ostream& err) {
    if (store::Status status = store_->CatchUp(); !status.ok()) {
      return status;
    }

    uint64_t highest = settled_;
    filter_.after_sequence = settled_;
    store::Status status = store::ForEachDelivery(
        *store_, filter_,
        [&](const store::DeliveryRecord& delivery) {
          highest = std::max(highest, delivery.sequence);
          if (seen_.insert(delivery.sequence).second) {
            visit(delivery);
          }
          return true;
        },
        [&](uint64_t sequence) {
          if (seen_.insert(sequence).second) {
            err << "terra-syncctl dump: skipped malformed delivery " << sequence
                << "\n";
          }
        });
    Settle(highest);
    return status;
  }

 private:
  // Moves `settled_` up to what was seen at least kFollowSettleTime ago.
  void Settle(uint64_t highest) {
    SteadyClock::time_point now = SteadyClock::now();
    marks_.emplace_back(now, highest);
    while (!marks_.empty() && now - marks_.front().first >= kFollowSettleTime) {
      settled_ = std::max(settled_, marks_.front().second);
      marks_.pop_front();
    }
    seen_.erase(seen_.begin(), seen_.upper_bound(settled_));
  }

  store::Store* store_;
  store::DeliveryFilter filter_;
  uint64_t settled_;
  std::set<uint64_t> seen_;
  std::deque<std::pair<SteadyClock::time_point, uint64_t>> marks_;
};

// Runs `poll` every `interval` until a signal, a failed write or an error.
store::Status PollUntilStopped(std::chrono::milliseconds interval,
                               RowWriter* writer,
                               const std::function<store::Status()>& poll) {
  while (!StopRequested()) {
    if (store::Status status = poll(); !status.ok()) {
      return status;
    }
    writer->Flush();
    if (!writer->ok()) {
      break;
    }
    SleepUnlessStopped(interval);
  }
  return store::Status::Ok();
}

// Connection and type of the records a delivery may have written.
using RecordGroup = std::pair<std::string, std::string>;

// Prints the records of `group` whose winning copy came from one of
// `deliveries`.
store::Status PrintChangedRecords(const store::Store& store,
                                  store::RecordFilter filter,
                                  const RecordGroup& group,
                                  const std::set<uint64_t>& deliveries,
                                  RowWriter* writer) {
  filter.connection_id = group.first;
  filter.type = group.second;
  JsonLine line;
  return store::ForEachRecord(
      store, filter, [&](const store::RecordView& record) {
        if (deliveries.count(record.envelope->delivery) == 0) {
          return true;
        }
        return WriteRecord(record, writer, &line);
      });
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return stop_requested.load(); }

store::Status FollowDeliveries(store::Store* store,
                               const store::DeliveryFilter& filter,
                               uint64_t after_sequence,
                               std::chrono::milliseconds poll_interval,
                               RowWriter* writer, std::ostream& err) {
  DeliveryTail tail(store, filter, after_sequence);
  return PollUntilStopped(poll_interval, writer, [&] {
    return tail.Poll(
        [&](const store::DeliveryRecord& delivery) {
          writer->Write(DeliveryToCapture(delivery));
        },
        err);
  });
}

store::Status FollowRecords(store::Store* store,
                            const store::RecordFilter& filter,
                            uint64_t after_sequence,
                            std::chrono::milliseconds poll_interval,
                            RowWriter* writer, std::ostream& err) {
  DeliveryTail tail(store, store::DeliveryFilter(), after_sequence);
  return PollUntilStopped(poll_interval, writer, [&] {
    // Group this poll's deliveries by the record prefix they write to, so
    // each prefix is read once per poll.
    std::map<RecordGroup, std::set<uint64_t>> groups;
    store::Status status = tail.Poll(
        [&](const store::DeliveryRecord& delivery) {
          std::string connection_id;
          if (delivery.records == 0 ||
              !store::ResolveConnection(*store, delivery.user_id,
                                        &connection_id)
                   .ok()) {
            return;
          }
          if ((filter.connection_id.empty() ||
               filter.connection_id == connection_id) &&
              (filter.type.empty() || filter.type == delivery.event_type)) {
            groups[{connection_id, delivery.event_type}].insert(
                delivery.sequence);
          }
        },
        err);
    for (const auto& [group, deliveries] : groups) {
      if (!status.ok()) break;
      status = PrintChangedRecords(*store, filter, group, deliveries, writer);
    }
    return status;
  });
}

}  // namespace terra::tools
