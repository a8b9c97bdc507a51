#include "tools/follow.h"

#include <poll.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "store/store.h"
#include "tools/capture_format.h"
#include "tools/dump_selectors.h"
#include "tools/stop_signals.h"

namespace terra::tools {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Granularity of the sleep between polls, so that a signal ends it quickly.
constexpr auto kSleepSlice = std::chrono::milliseconds(50);

void SleepUnlessStopped(std::chrono::milliseconds duration) {
  auto deadline = SteadyClock::now() + duration;
  while (!StopRequested() && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(kSleepSlice);
  }
}

// Reads the deliveries that the delivery watermark passed since the previous
// poll, in sequence order. Deliveries above the watermark wait for the next
// poll even when committed, because one below them may still commit.
class DeliveryTail {
 public:
  DeliveryTail(store::Store* store, store::DeliveryFilter filter,
               FollowStart start, SkippedEntries* skipped)
      : store_(store),
        filter_(std::move(filter)),
        skipped_(skipped),
        read_through_(start.watermark),
        already_seen_(std::move(start.already_seen)),
        bad_key_reported_(already_seen_.count(0) > 0) {}

  store::Status Poll(
      const std::function<void(const store::DeliveryRecord&)>& visit,
      std::ostream& err) {
    if (store::Status status = store_->CatchUp(); !status.ok()) {
      return status;
    }
    std::optional<uint64_t> watermark;
    if (store::Status status =
            store::ReadDeliveryWatermark(*store_, &watermark);
        !status.ok()) {
      return status;
    }

    // NOTE: a store without a watermark was last written by a terra-syncd
    // that does not record one. Every committed delivery then counts as
    // final, so a delivery that such a daemon commits late is missed.
    uint64_t limit = watermark.value_or(std::numeric_limits<uint64_t>::max());
    uint64_t highest = read_through_;
    filter_.after_sequence = read_through_;
    store::Status status = store::ForEachDelivery(
        *store_, filter_,
        [&](const store::DeliveryRecord& delivery) {
          if (delivery.sequence > limit) return false;
          highest = delivery.sequence;
          if (already_seen_.count(delivery.sequence) == 0) visit(delivery);
          return true;
        },
        [&](uint64_t sequence) {
          ReportMalformed(sequence, limit, &highest, err);
        });
    if (!status.ok()) {
      return status;
    }

    read_through_ = watermark ? std::max(read_through_, *watermark) : highest;
    already_seen_.erase(already_seen_.begin(),
                        already_seen_.upper_bound(read_through_));
    return store::Status::Ok();
  }

 private:
  // Reports a delivery that does not decode once, when the watermark has
  // passed it. Sequence 0 stands for a key that is not a sequence.
  void ReportMalformed(uint64_t sequence, uint64_t limit, uint64_t* highest,
                       std::ostream& err) {
    if (sequence > limit) return;
    if (sequence == 0 ? bad_key_reported_ : already_seen_.count(sequence) > 0) {
      return;
    }
    if (sequence == 0) {
      bad_key_reported_ = true;
    } else {
      *highest = std::max(*highest, sequence);
    }
    ReportMalformedDelivery(sequence, skipped_, err);
  }

  store::Store* store_;
  store::DeliveryFilter filter_;
  SkippedEntries* skipped_;
  uint64_t read_through_;  // every delivery up to here has been visited
  std::set<uint64_t> already_seen_;
  bool bad_key_reported_ = false;
};

// Runs `poll` every `interval` until a signal, a failed write, a closed
// `output_fd` or an error.
store::Status PollUntilStopped(std::chrono::milliseconds interval,
                               RowWriter* writer, int output_fd,
                               const std::function<store::Status()>& poll) {
  while (!StopRequested()) {
    // A filtered follow may write nothing for hours, so a reader that has
    // gone would never be noticed through a failed write.
    if (IsOutputClosed(output_fd)) {
      break;
    }
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

// Malformed records already reported, by key, because a group is read again
// whenever a delivery writes to it.
using ReportedKeys = std::set<std::string, std::less<>>;

// Prints the records of `group` whose winning copy came from one of
// `deliveries`, and reports each malformed record of the group once.
store::Status PrintChangedRecords(const store::Store& store,
                                  store::RecordFilter filter,
                                  const RecordGroup& group,
                                  const std::set<uint64_t>& deliveries,
                                  RowWriter* writer, ReportedKeys* reported,
                                  SkippedEntries* skipped, std::ostream& err) {
  filter.connection_id = group.first;
  filter.type = group.second;
  JsonLine line;
  return store::ForEachRecord(
      store, filter,
      [&](const store::RecordView& record) {
        if (deliveries.count(record.envelope->delivery) == 0) {
          return true;
        }
        return WriteRecord(record, writer, &line);
      },
      [&](std::string_view key, std::string_view reason) {
        if (reported->insert(std::string(key)).second) {
          ReportMalformedRecord(key, reason, skipped, err);
        }
      });
}

}  // namespace

bool IsOutputClosed(int fd) {
  if (fd < 0) {
    return false;
  }
  // poll(2) reports POLLERR and POLLHUP even when no event is requested.
  struct pollfd watched {};
  watched.fd = fd;
  watched.events = 0;
  if (poll(&watched, 1, 0) != 1) {
    return false;
  }
  return (watched.revents & (POLLERR | POLLHUP)) != 0;
}

store::Status ReadFollowStart(const store::Store& store, FollowStart* start) {
  *start = FollowStart();
  std::optional<uint64_t> watermark;
  if (store::Status status = store::ReadDeliveryWatermark(store, &watermark);
      !status.ok()) {
    return status;
  }
  if (watermark) {
    start->watermark = *watermark;
  } else if (store::Status status =
                 store::LastDeliverySequence(store, &start->watermark);
             !status.ok()) {
    return status;
  }

  store::DeliveryFilter above;
  above.after_sequence = start->watermark;
  return store::ForEachDelivery(
      store, above,
      [&](const store::DeliveryRecord& delivery) {
        start->already_seen.insert(delivery.sequence);
        return true;
      },
      [&](uint64_t sequence) { start->already_seen.insert(sequence); });
}

store::Status FollowDeliveries(store::Store* store,
                               const store::DeliveryFilter& filter,
                               FollowStart start,
                               std::chrono::milliseconds poll_interval,
                               RowWriter* writer, int output_fd,
                               SkippedEntries* skipped, std::ostream& err) {
  DeliveryTail tail(store, filter, std::move(start), skipped);
  return PollUntilStopped(poll_interval, writer, output_fd, [&] {
    return tail.Poll(
        [&](const store::DeliveryRecord& delivery) {
          writer->Write(DeliveryToCapture(delivery));
        },
        err);
  });
}

store::Status FollowRecords(store::Store* store,
                            const store::RecordFilter& filter,
                            FollowStart start,
                            std::chrono::milliseconds poll_interval,
                            RowWriter* writer, int output_fd,
                            SkippedEntries* skipped, std::ostream& err) {
  DeliveryTail tail(store, store::DeliveryFilter(), std::move(start), skipped);
  ReportedKeys reported;
  return PollUntilStopped(poll_interval, writer, output_fd, [&] {
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
            // A reference id is checked when the group is read, because
            // ForEachRecord applies the whole filter.
            groups[{connection_id, delivery.event_type}].insert(
                delivery.sequence);
          }
        },
        err);
    for (const auto& [group, deliveries] : groups) {
      if (!status.ok()) break;
      status = PrintChangedRecords(*store, filter, group, deliveries, writer,
                                   &reported, skipped, err);
    }
    return status;
  });
}

}  // namespace terra::tools
