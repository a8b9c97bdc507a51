#include "daemon/reconcile_planner.h"

#include <algorithm>

#include "store/connection.h"

namespace terra::daemon {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

// Returns whether a connection in `state` is reconciled on `today`.
bool IsDue(const ReconcileCandidate& candidate, sys_days today,
           const ReconcilePlannerOptions& options) {
  if (candidate.state == store::kStateRevoked ||
      candidate.state == store::kStateMerged) {
    return false;
  }
  if (candidate.state != store::kStateError || !candidate.checkpoint) {
    return true;
  }
  return (today - *candidate.checkpoint).count() >= options.error_every_nights;
}

// The range of one connection: the look-back, or back to the checkpoint when
// nights were missed, capped at kMaxCatchUpDays.
DateWindow RangeFor(const ReconcileCandidate& candidate, sys_days today,
                    const ReconcilePlannerOptions& options) {
  sys_days start = today - days(options.look_back_days);
  if (candidate.checkpoint && *candidate.checkpoint < start) {
    start = *candidate.checkpoint;
  }
  start = std::max(start, today - days(kMaxCatchUpDays));
  return DateWindow{start, today};
}

}  // namespace

std::vector<ReconcileTask> PlanReconciliation(
    const std::vector<ReconcileCandidate>& candidates, sys_days today,
    const ReconcilePlannerOptions& options) {
  std::vector<ReconcileTask> tasks;
  for (const ReconcileCandidate& candidate : candidates) {
    if (!IsDue(candidate, today, options)) {
      continue;
    }
    tasks.push_back(ReconcileTask{candidate.connection_id, candidate.user_id,
                                  RangeFor(candidate, today, options)});
  }
  return tasks;
}

std::string ReconcileCheckpointKey(std::string_view connection_id) {
  return "reconcile_checkpoint/" + std::string(connection_id);
}

}  // namespace terra::daemon
