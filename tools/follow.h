// `terra-syncctl dump --follow`: after the first dump, keeps catching up with
// the primary and prints the deliveries, or the records they changed, as
// they land, until SIGINT or SIGTERM (see tools/stop_signals.h).

#ifndef TERRA_TOOLS_FOLLOW_H_
#define TERRA_TOOLS_FOLLOW_H_

#include <chrono>
#include <cstdint>
#include <ostream>
#include <set>

#include "store/delivery_queries.h"
#include "store/queries.h"
#include "store/status.h"
#include "tools/row_writer.h"

namespace terra::store {
class Store;
}

namespace terra::tools {

class SkippedEntries;

// The starting point of a follow: the delivery watermark (see
// store/sequence_tracker.h) when the first dump read the store, and the
// deliveries above it that the first dump could already see.
struct FollowStart {
  uint64_t watermark = 0;
  // Sequences above `watermark`, and 0 for a key above it that is not a
  // sequence, which the first dump has reported already.
  std::set<uint64_t> already_seen;
};

// Reads the start of a follow from the store state that the first dump
// prints. A store without a watermark starts after its last delivery.
[[nodiscard]] store::Status ReadFollowStart(const store::Store& store,
                                            FollowStart* start);

// Returns true if poll(2) reports POLLERR or POLLHUP on `fd`: on Linux, a pipe
// whose reader has closed it (`| head -1` has exited), or a socket or
// terminal that hung up. Returns false for a regular file, an open pipe or
// terminal, and a negative `fd`.
[[nodiscard]] bool IsOutputClosed(int fd);

// Prints each delivery matching `filter` that `start` has not seen, once,
// polling every `poll_interval`. Deliveries print in sequence order up to the
// store's delivery watermark, so one that commits after deliveries with
// higher sequences is printed too, and they wait for it. A malformed delivery
// is reported once on `err` and counted in `skipped`. `output_fd` is the
// descriptor that `writer` writes to, checked with IsOutputClosed at each
// poll, so that a follow whose filter matches nothing new still ends once its
// reader has gone; -1 skips the check. Returns OK when stopped by a signal, a
// failed write or a closed `output_fd`, or the first store error.
[[nodiscard]] store::Status FollowDeliveries(
    store::Store* store, const store::DeliveryFilter& filter, FollowStart start,
    std::chrono::milliseconds poll_interval, RowWriter* writer, int output_fd,
    SkippedEntries* skipped, std::ostream& err);

// Prints each record matching `filter` whose winning copy came from a
// delivery that `start` has not seen, in the order of FollowDeliveries. A
// copy that lost the merge to a newer one changes nothing and is not printed.
// A malformed record is reported once on `err` and counted in `skipped`.
// It ends like FollowDeliveries.
[[nodiscard]] store::Status FollowRecords(
    store::Store* store, const store::RecordFilter& filter, FollowStart start,
    std::chrono::milliseconds poll_interval, RowWriter* writer, int output_fd,
    SkippedEntries* skipped, std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_FOLLOW_H_
