// `terra-syncctl replay --into STORE`: applies deliveries offline through the
// daemon's own DeliveryApplier and Committer, into a store whose daemon is
// stopped, opened for a bulk load (no write-ahead log; one flush at the end).
// Deliveries are built in input order, and up to 256 wait for the committer
// at once. The replay waits for every commit before a `user_reauth` and
// after the first delivery of each user id, because the applier reads user
// ids that earlier deliveries write (an `auth` before its data, a
// `user_reauth` before data under the new id).

#ifndef TERRA_TOOLS_REPLAY_INTO_H_
#define TERRA_TOOLS_REPLAY_INTO_H_

#include <cstddef>
#include <ostream>
#include <string>

#include "tools/replay_delivery.h"
#include "tools/replay_source.h"
#include "tools/replay_tally.h"

namespace terra::tools {

// Default memtable size per column family of `replay --into`, in MiB. A bulk
// load flushes and compacts less with memtables four times the daemon's:
// replaying the benchmark corpus took 14-21% less CPU than with 16 MiB.
inline constexpr int kReplayWriteBufferMib = 64;

struct ReplayIntoOptions {
  std::string store_path;  // an existing store, or an empty directory
  size_t write_buffer_bytes = size_t{kReplayWriteBufferMib} << 20;
  TraceIdPolicy trace_ids;
  bool dry_run = false;  // list the deliveries on `out`; open no target
};

// Replays `input` into the store and counts each result in `tally`. Copies
// are written with source "replay"; received time, trace id (unless
// renewed), terra-reference and ordering timestamp are the original ones, so
// records merge as they did the first time. Returns kExitOk or the exit code
// of the first error that stopped the replay (kExitStoreError for a store
// that is locked, cannot be opened or rejects a write). SIGINT and SIGTERM
// stop the reading; what was applied is flushed, and the result is
// kExitSignalBase plus the signal number.
[[nodiscard]] int ReplayInto(const ReplayInput& input,
                             const ReplayIntoOptions& options,
                             ReplayTally* tally, std::ostream& out,
                             std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_REPLAY_INTO_H_
