// Where `terra-syncctl replay` reads deliveries from: the archive of a store
// (read as a secondary instance, with the filters of `dump deliveries`), a
// capture file in the format `dump deliveries` prints (see capture_format.h),
// or a directory of plain `.json` bodies, read in file name order.

#ifndef TERRA_TOOLS_REPLAY_SOURCE_H_
#define TERRA_TOOLS_REPLAY_SOURCE_H_

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "store/delivery_queries.h"
#include "store/delivery_record.h"
#include "tools/replay_delivery.h"
#include "tools/replay_tally.h"

namespace terra::tools {

struct ReplayInput {
  enum class Kind { kStore, kCapture, kBodies };
  Kind kind = Kind::kStore;
  std::string path;              // store directory, capture file or directory
  store::DeliveryFilter filter;  // kStore only
  bool stop_on_invalid = true;   // an invalid capture line or body file stops
                                 // the replay; false skips it
};

// Receives one delivery and how far through the input the replay is, from 0
// to 1. Returns false to stop reading.
using ReplayVisitor =
    std::function<bool(store::DeliveryRecord delivery, double progress)>;

// Calls `visit` for each delivery of `input`, in order. Reports each invalid
// line (with its line number) or file on `err` and counts it in `tally` as
// skipped. Returns kExitOk, or the exit code after an input that cannot be
// opened (kExitUsage, or kExitStoreError for a store) or an invalid entry
// when `stop_on_invalid` is set (kExitIncomplete).
[[nodiscard]] int ReadReplayInput(const ReplayInput& input,
                                  const ReplayVisitor& visit,
                                  ReplayTally* tally, std::ostream& err);

// For --dry-run: prints one line per delivery of `input`, "<verb>" followed
// by the delivery and the trace id it would carry, and counts each as
// planned. Returns what ReadReplayInput returns.
[[nodiscard]] int ListReplayInput(const ReplayInput& input,
                                  const TraceIdPolicy& trace_ids,
                                  std::string_view verb, ReplayTally* tally,
                                  std::ostream& out, std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_REPLAY_SOURCE_H_
