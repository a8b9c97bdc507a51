// Silence detection: notices when Terra has stopped sending webhooks for an
// active connection, or stopped sending anything at all (not even its
// `healthcheck`), so that the missed days are pulled over REST before the
// nightly reconciliation. It only keeps times and decides; the caller logs,
// counts and pulls.
//
// Delivery times are kept in memory. After a start, every connection counts
// as heard from at the start, so a silence is noticed at the earliest one
// threshold after the start.

#ifndef TERRA_DAEMON_SILENCE_MONITOR_H_
#define TERRA_DAEMON_SILENCE_MONITOR_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace terra::daemon {

struct SilenceOptions {
  // Time without a webhook for one active connection after which its missed
  // days are pulled; zero turns this check off.
  std::chrono::seconds connection_after = std::chrono::hours(24);

  // Time without any delivery after which the missed days of every active
  // connection are pulled; zero turns this check off.
  std::chrono::seconds terra_after = std::chrono::hours(6);
};

// A pull that a silence calls for.
struct SilentPull {
  std::string connection_id;
  std::chrono::system_clock::time_point since;  // last delivery heard
  bool terra_wide = false;  // true: no delivery at all, not only this one
};

// Thread safety: every method may be called from any thread.
class SilenceMonitor {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  SilenceMonitor(SilenceOptions options, TimePoint start);

  // Records a delivery at `at`; `connection_id` is empty for deliveries
  // without a user, such as `healthcheck`. Ends the silence it belongs to.
  void NoteDelivery(std::string_view connection_id, TimePoint at);

  // Returns the pulls due at `now` among the `active` connections. Each
  // silence yields one pull, then none until a delivery ends it.
  [[nodiscard]] std::vector<SilentPull> Check(
      const std::vector<std::string>& active, TimePoint now);

  // Active connections silent past connection_after at the last Check.
  [[nodiscard]] size_t silent_connections() const;

  // Time of the last delivery of any kind, or the start.
  [[nodiscard]] TimePoint last_delivery() const;

 private:
  struct Heard {
    TimePoint at;
    bool pulled = false;
  };

  bool IsSilent(TimePoint last, std::chrono::seconds after,
                TimePoint now) const;

  const SilenceOptions options_;
  const TimePoint start_;
  mutable std::mutex mutex_;
  std::map<std::string, Heard, std::less<>> connections_;
  Heard any_;
  size_t silent_ = 0;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_SILENCE_MONITOR_H_
