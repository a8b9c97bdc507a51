// Runs the store's retention (store/retention.h) for archived deliveries and
// finished jobs on a thread of its own: one sweep at start, then one an hour. A
// sweep deletes in bounded passes, so a stop waits for one pass at most.

#ifndef TERRA_DAEMON_RETENTION_SWEEPER_H_
#define TERRA_DAEMON_RETENTION_SWEEPER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "daemon/service_metrics.h"
#include "store/store.h"

namespace terra::daemon {

// Thread safety: every method may be called from any thread.
class RetentionSweeper {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // A `retention_days` of 0 keeps every delivery, and a `job_retention_days`
  // of 0 every finished job. `metrics` may be null. The clock defaults to
  // the system clock.
  RetentionSweeper(store::Store* store, int retention_days,
                   int job_retention_days, ServiceMetrics* metrics,
                   Clock clock = {});
  ~RetentionSweeper();  // stops the thread
  RetentionSweeper(const RetentionSweeper&) = delete;
  RetentionSweeper& operator=(const RetentionSweeper&) = delete;

  // Starts the thread, which sweeps at once and then every `interval`.
  void Start(std::chrono::seconds interval);

  // Stops the thread after the pass in progress; later calls do nothing.
  void Stop();

  // Change the retention times for the next sweep, for a configuration
  // reload.
  void SetRetentionDays(int days);
  void SetJobRetentionDays(int days);

  // Archive entries deleted since the start.
  uint64_t deleted() const { return deleted_.load(); }

  // Finished jobs deleted since the start.
  uint64_t jobs_deleted() const { return jobs_deleted_.load(); }

  // Sweeps finished since the start, including those that deleted nothing.
  uint64_t sweeps() const { return sweeps_.load(); }

 private:
  void Run(std::chrono::seconds interval);
  void Sweep();
  void SweepDeliveries();
  void SweepJobs();
  bool Stopping();

  store::Store* store_;
  ServiceMetrics* metrics_;
  Clock clock_;
  std::atomic<int> retention_days_;
  std::atomic<int> job_retention_days_;
  std::atomic<uint64_t> deleted_{0};
  std::atomic<uint64_t> jobs_deleted_{0};
  uint64_t jobs_next_ = 0;  // job id the next job pass starts from
  std::atomic<uint64_t> sweeps_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_RETENTION_SWEEPER_H_
