// Which days the nightly reconciliation pulls for which connections: a plain
// function of the connections' states, their checkpoints and the date of
// the run, so that it can be tested without a clock or a store.
//
// Each connection's checkpoint is the exclusive end of the last range it
// reconciled, kept in the store's `meta` family under ReconcileCheckpointKey.

#ifndef TERRA_DAEMON_RECONCILE_PLANNER_H_
#define TERRA_DAEMON_RECONCILE_PLANNER_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/date_windows.h"

namespace terra::daemon {

// Days a reconciliation reaches back at most, however long the daemon was
// down: a backfill window covers 28 days, and older gaps need an operator
// backfill.
inline constexpr int kMaxCatchUpDays = 28;

struct ReconcilePlannerOptions {
  // Days before the run's date that every run pulls again, because sleep
  // and readiness data finalise late. 1 pulls only the previous day.
  int look_back_days = 2;

  // A connection in state `error` is reconciled only when its checkpoint is
  // at least this many days old, so it is retried every Nth night.
  int error_every_nights = 7;
};

// One connection, as input to the planner.
struct ReconcileCandidate {
  std::string connection_id;
  std::string user_id;  // the Terra user id to request data for
  std::string state;    // store::kStateActive, kStateError, ...
  // Exclusive end of the last reconciled range; none before the first run.
  std::optional<std::chrono::sys_days> checkpoint;
};

// One connection's range to pull.
struct ReconcileTask {
  std::string connection_id;
  std::string user_id;
  DateWindow range;

  friend bool operator==(const ReconcileTask&, const ReconcileTask&) = default;
};

// Plans a run on local date `today`. Every active connection gets
// [today - look_back_days, today), widened back to its checkpoint when runs
// were missed, but never before today - kMaxCatchUpDays. A connection in
// error gets the same range only on the nights error_every_nights allows.
// Revoked and merged connections get nothing. Tasks keep the input order.
// REQUIRES: look_back_days and error_every_nights are at least 1.
[[nodiscard]] std::vector<ReconcileTask> PlanReconciliation(
    const std::vector<ReconcileCandidate>& candidates,
    std::chrono::sys_days today, const ReconcilePlannerOptions& options);

// Returns the `meta` key of a connection's checkpoint.
[[nodiscard]] std::string ReconcileCheckpointKey(
    std::string_view connection_id);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_RECONCILE_PLANNER_H_
