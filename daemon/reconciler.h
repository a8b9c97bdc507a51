// The nightly reconciliation and silence detection. A timer fires when the
// wall clock of the configured zone shows the configured time (plus a
// random jitter). Each run lists Terra's users (/subscriptions) to create
// missing connections and revoke inactive ones, then queues one `reconcile`
// job per due connection (see PlanReconciliation). A job that succeeds
// moves its connection's checkpoint, so the next run after downtime catches
// up the missed days.
//
// Between runs, the timer also checks the SilenceMonitor for connections whose webhooks
// stopped, and queues a job for the missed days of each silent connection.
//
// The clock is injected: tests drive it from a file (see MakeWallClock).
// The timer sleeps at most `tick` at a time and reads the clock again, so a
// clock that jumps ahead is noticed within one tick.

#ifndef TERRA_DAEMON_RECONCILER_H_
#define TERRA_DAEMON_RECONCILER_H_

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/reconcile_planner.h"
#include "daemon/reconcile_schedule.h"
#include "daemon/silence_monitor.h"
#include "daemon/test_clock.h"

namespace terra::store {
class Committer;
class DeliveryApplier;
class Store;
}  // namespace terra::store

namespace terra::daemon {

class JobRunner;
class TerraClient;
struct ServiceMetrics;

struct ReconcilerOptions {
  TimeOfDay at{3, 30};
  TimeZone zone;  // UTC unless set
  // Upper bound of the random delay added to each night's fire time, so
  // that many daemons do not call Terra at the same second.
  std::chrono::seconds jitter{600};
  ReconcilePlannerOptions planner;
  bool sync_subscriptions = true;
  SilenceOptions silence;
  // Maximum single sleep of the timer before it reads the clock again.
  std::chrono::milliseconds tick{std::chrono::seconds(30)};
};

// Summary of one run.
struct ReconcileRun {
  std::vector<uint64_t> job_ids;  // jobs queued by this run
  int skipped = 0;   // due connections whose earlier job is still unfinished
  std::string note;  // set when the run did not happen, and why
};

// The components a Reconciler uses; all must outlive it. `metrics` may be
// null.
struct ReconcilerSources {
  store::Store* store;
  const store::DeliveryApplier* applier;
  store::Committer* committer;
  TerraClient* client;
  JobRunner* job_runner;
  ServiceMetrics* metrics;
};

// Thread safety: every method may be called from any thread once the
// object is built; callbacks run on the io_context's threads or the
// committer's thread.
class Reconciler {
 public:
  Reconciler(boost::asio::io_context& io_context,
             const ReconcilerSources& sources, ReconcilerOptions options,
             WallClock clock);
  ~Reconciler();

  // Computes the first fire time and starts the timer.
  void Start();

  // Stops the timer; a run in progress still queues its jobs.
  void Stop();

  // Runs a reconciliation now, with `trigger` ("operator", ...) in the log
  // and in the jobs' reason. Calls `done` once. A run asked for while
  // another runs does nothing and records that in the note.
  void RunNow(std::string trigger, std::function<void(ReconcileRun)> done);

  // Records a webhook for `connection_id` (empty for events without a
  // user), for silence detection.
  void NoteDelivery(std::string_view connection_id);

  // The silence state, for metrics.
  const SilenceMonitor& silence() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_RECONCILER_H_
