// Terra's REST rate limit, as Terra counts it: a request costs the days it
// spans, and each Terra user may request a budget of days per rolling hour
// (rule r2). The budget is kept locally and tightened by what Terra reports:
// X-Terra-RateLimit-Remaining and -Reset-After on accepted responses, and
// Retry-After on a 429 of rule r2.
//
// Thread safety: every method may be called from any thread.

#ifndef TERRA_DAEMON_DAY_BUDGET_H_
#define TERRA_DAEMON_DAY_BUDGET_H_

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace terra::daemon {

struct DayBudgetOptions {
  // Days one user may request per `window`; Terra allows 6,000 per hour.
  int days_per_window = 6000;
  std::chrono::milliseconds window = std::chrono::hours(1);
};

class DayBudget {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit DayBudget(DayBudgetOptions options);

  // Reserves `days` of `user_id`'s budget at `now`. Returns zero when the
  // days are reserved; otherwise reserves nothing and returns how long to
  // wait before asking again. A request larger than the whole budget is
  // admitted once nothing else is in the window, so it can never wait
  // forever.
  [[nodiscard]] std::chrono::milliseconds Reserve(const std::string& user_id,
                                                  int days, TimePoint now);

  // Records Terra's view after an accepted response: `remaining_days` may
  // still be requested until `reset_after` has passed.
  void Observe(const std::string& user_id, int64_t remaining_days,
               std::chrono::milliseconds reset_after, TimePoint now);

  // Holds every request of `user_id` until `wait` has passed (a 429 of rule
  // r2 with Retry-After).
  void Pause(const std::string& user_id, std::chrono::milliseconds wait,
             TimePoint now);

  // Days reserved for `user_id` within the window ending at `now`.
  [[nodiscard]] int Used(const std::string& user_id, TimePoint now) const;

 private:
  struct Charge {
    TimePoint at;
    int days = 0;
  };
  struct UserState {
    std::deque<Charge> charges;  // oldest first
    TimePoint paused_until;
    TimePoint server_reset_at;      // Terra's window resets at this time
    int64_t server_remaining = -1;  // -1: Terra has not reported it
  };

  static int Sum(const UserState& state, TimePoint now,
                 std::chrono::milliseconds window);
  static void Prune(UserState* state, TimePoint now,
                    std::chrono::milliseconds window);
  std::chrono::milliseconds LocalWait(const UserState& state, int days,
                                      TimePoint now) const;

  const DayBudgetOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, UserState, std::less<>> users_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_DAY_BUDGET_H_
