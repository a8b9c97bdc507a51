// Runs backfill and reconcile jobs from the store's `jobs` family. A job is
// JSON (see job_runner.cc for its fields); on its first run the runner adds
// a plan, the windows still to fetch, and after each window it writes the
// window's data and the shortened plan in one batch, so a restart resumes at
// the first window not yet stored. Results go through DeliveryApplier and
// the Committer like webhooks, with source backfill or reconcile and the
// request time as ordering timestamp.
//
// The `auth` webhook queues backfill jobs in the store; the runner finds
// them by scanning new `jobs` keys every `scan_interval`.

#ifndef TERRA_DAEMON_JOB_RUNNER_H_
#define TERRA_DAEMON_JOB_RUNNER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "daemon/rest_fetcher.h"

namespace terra::store {
class Committer;
class DeliveryApplier;
class Store;
}  // namespace terra::store

namespace terra::daemon {

struct JobRunnerOptions {
  // Data types fetched for each job, in order ("athlete" has no dates).
  std::vector<std::string> data_types = {
      "activity",  "sleep",        "daily",  "body",
      "nutrition", "menstruation", "athlete"};

  // Maximum days in the window of one request.
  int max_window_days = 28;

  // How often the `jobs` family is scanned for jobs queued by webhooks.
  std::chrono::milliseconds scan_interval{500};
};

// A job for the runner to create (reconciliation, or an operator request).
struct JobSpec {
  std::string kind;  // "backfill" or "reconcile"
  std::string connection_id;
  std::string user_id;
  DateWindow range;
  std::string reason;
  // Meta entry set to FormatDate(range.end) once the job succeeds; empty
  // for none.
  std::string checkpoint_key;
};

// Thread safety: every method may be called from any thread once Start has
// run. Callbacks run on the io_context's threads.
class JobRunner {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  JobRunner(boost::asio::io_context& io_context, store::Store* store,
            const store::DeliveryApplier* applier, store::Committer* committer,
            RestFetcher* fetcher, JobRunnerOptions options, Clock clock = {});
  ~JobRunner();

  // Resumes every queued or running job in the store, then scans for new
  // ones periodically.
  void Start();

  // Stops scanning and starting windows; a window in flight completes.
  void Stop();

  // Writes a new queued job and starts it. Calls `done` with the job id (its
  // `jobs` key as a number), or 0 when the store rejected the write.
  void Submit(const JobSpec& spec, std::function<void(uint64_t id)> done);

  // Jobs started and not finished.
  [[nodiscard]] size_t running() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_JOB_RUNNER_H_
