// What a replayed delivery carries: its trace id (the original one, or a new
// one for --new-trace-ids), and the one-line description that --dry-run
// prints.

#ifndef TERRA_TOOLS_REPLAY_DELIVERY_H_
#define TERRA_TOOLS_REPLAY_DELIVERY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "store/delivery_record.h"

namespace terra::tools {

// How trace ids are chosen for one run of replay.
struct TraceIdPolicy {
  // Keep the original trace ids (so a delivery already stored is a
  // duplicate), or make new ones so that every delivery applies again.
  bool new_trace_ids = false;
  // Unix ms when the run started; part of each new trace id, so that two runs
  // with --new-trace-ids never collide.
  int64_t run_ms = 0;
};

// Returns the trace id to replay `delivery` with: its own, or with new ids
// "<original>:replay:<run_ms>" ("replay:<run_ms>:<index>" when it had none).
// An empty result lets the daemon or applier use the body's SHA-256.
std::string ReplayTraceId(const store::DeliveryRecord& delivery,
                          const TraceIdPolicy& policy, uint64_t index);

// Returns the ordering timestamp, in unix ms, that a replay gives
// `delivery`, with --into and --to alike. A signed webhook gets its ordering
// header capped at its signed time, as terra-syncd does, so an edited
// capture line cannot carry a later time. REST data, which has no
// signature, gets its recorded ordering time. A plain body without either
// gets nullopt and counts as received now.
std::optional<int64_t> ReplayOrderingMs(const store::DeliveryRecord& delivery);

// Returns "<verb> <trace id or '-'> <event type or '-'> <size> bytes" for
// --dry-run, for example "would send t1 daily 2048 bytes".
std::string DescribeDelivery(std::string_view verb,
                             const store::DeliveryRecord& delivery,
                             std::string_view trace_id);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_REPLAY_DELIVERY_H_
