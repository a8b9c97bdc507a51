// `terra-syncctl dump --follow`: after the first dump, keeps catching up with
// the primary and prints the deliveries, or the records they changed, as
// they land, until SIGINT or SIGTERM.

#ifndef TERRA_TOOLS_FOLLOW_H_
#define TERRA_TOOLS_FOLLOW_H_

#include <chrono>
#include <cstdint>
#include <ostream>

#include "store/delivery_queries.h"
#include "store/queries.h"
#include "store/status.h"
#include "tools/row_writer.h"

namespace terra::store {
class Store;
}

namespace terra::tools {

// How long the follower keeps re-reading recent deliveries. A delivery takes
// its sequence before its batch is committed, so a delivery can land below a
// sequence already seen; one that lands more than this late is not printed.
inline constexpr std::chrono::seconds kFollowSettleTime{5};

// Makes SIGINT and SIGTERM end a follow loop (and ignores SIGPIPE, so that a
// closed pipe shows up as a failed write instead of killing the process).
void InstallStopHandlers();

// Returns true once SIGINT or SIGTERM has arrived.
[[nodiscard]] bool StopRequested();

// Prints each delivery matching `filter` that is committed with a sequence
// above `after_sequence`, polling every `poll_interval`. Returns OK when
// stopped by a signal or a failed write, or the first store error.
[[nodiscard]] store::Status FollowDeliveries(
    store::Store* store, const store::DeliveryFilter& filter,
    uint64_t after_sequence, std::chrono::milliseconds poll_interval,
    RowWriter* writer, std::ostream& err);

// Prints each record matching `filter` whose winning copy came from a
// delivery committed with a sequence above `after_sequence`. A copy that lost
// the merge to a newer one changes nothing and is not printed.
[[nodiscard]] store::Status FollowRecords(
    store::Store* store, const store::RecordFilter& filter,
    uint64_t after_sequence, std::chrono::milliseconds poll_interval,
    RowWriter* writer, std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_FOLLOW_H_
