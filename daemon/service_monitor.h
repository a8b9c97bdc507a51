// Periodic duties of a running daemon on its io_context: the systemd
// watchdog ping, sent only while the committer makes progress, and the
// STATUS= line that `systemctl status` shows.

#ifndef TERRA_DAEMON_SERVICE_MONITOR_H_
#define TERRA_DAEMON_SERVICE_MONITOR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio {
class io_context;
}

namespace terra::store {
class Committer;
}

namespace terra::daemon {

struct WebhookCounters;

// Thread safety: Start and Stop may be called from any thread, before or
// while the io_context runs. They post to a strand of the io_context, on
// which the timers also run, so a Stop from a signal handler on one io
// thread never races a timer handler on another.
class ServiceMonitor {
 public:
  // `watchdog_interval` is how often to ping (half of WATCHDOG_USEC), or
  // nothing when systemd's watchdog is off. `pending_jobs` counts backfill
  // and reconcile jobs not finished yet. `counters` and `committer` must
  // outlive the monitor.
  ServiceMonitor(boost::asio::io_context& io_context,
                 const store::Committer* committer,
                 const WebhookCounters* counters,
                 std::optional<std::chrono::microseconds> watchdog_interval,
                 std::function<size_t()> pending_jobs);
  ~ServiceMonitor();

  // Starts the watchdog pings (when systemd's watchdog is on) and the
  // STATUS= updates.
  void Start();

  // Cancels both timers. A handler already queued finds the monitor stopped
  // and does not reschedule itself.
  void Stop();

  // Returns true if the committer looks stuck: work is queued and no group
  // was written for longer than `patience`. A plain function of the
  // committer's stats, so it tests without a timer.
  static bool CommitterStalled(size_t pending, uint64_t last_progress_ms,
                               uint64_t now_ms, std::chrono::milliseconds patience);

  // The STATUS= text: deliveries in the last minute, the last delivery's
  // age, pending commits and pending jobs.
  static std::string StatusLine(uint64_t deliveries_last_minute,
                                std::optional<uint64_t> seconds_since_last,
                                size_t pending_commits, size_t pending_jobs);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_SERVICE_MONITOR_H_
