// `terra-syncctl replay --to URL`: POSTs deliveries to a running terra-syncd,
// each re-signed with a fresh `t`, from a few worker threads, each with its
// own keep-alive connection, at an optional maximum rate.

#ifndef TERRA_TOOLS_REPLAY_SENDER_H_
#define TERRA_TOOLS_REPLAY_SENDER_H_

#include <chrono>
#include <ostream>
#include <string>

#include "tools/replay_delivery.h"
#include "tools/replay_http_client.h"
#include "tools/replay_source.h"
#include "tools/replay_tally.h"

namespace terra::tools {

// Attempts per delivery while the daemon returns 503 (its store is busy or its
// body memory is full), with kRetryDelay between them.
inline constexpr int kMaxAttempts = 3;
inline constexpr std::chrono::seconds kRetryDelay{1};

struct ReplayToOptions {
  HttpTarget target;
  std::string secret;  // signing secret, as the daemon reads it
  // Requests in flight at once. Above 1, deliveries can apply out of input
  // order, which matters for lifecycle events (auth, user_reauth).
  int concurrency = 1;
  double rate = 0;  // maximum deliveries per second; 0 means no limit
  std::chrono::seconds timeout{30};  // per request
  TraceIdPolicy trace_ids;
  bool dry_run = false;  // list the deliveries on `out`; send nothing
};

// Sends `input` and counts each response in `tally`. The original trace id,
// terra-reference and applied ordering timestamp go with each delivery, so
// the daemon treats a delivery it already has as a duplicate and orders the
// data as the first time. A request that fails after its connection opened
// (reset, closed, timed out, or a 5xx response) counts as failed with its
// reason, and the replay goes on. Returns kExitOk, kExitUnreachable when a
// connection cannot be opened (the replay stops), or the input's exit code;
// the tally's exit code covers the failed deliveries.
[[nodiscard]] int ReplayTo(const ReplayInput& input,
                           const ReplayToOptions& options, ReplayTally* tally,
                           std::ostream& out, std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_REPLAY_SENDER_H_
