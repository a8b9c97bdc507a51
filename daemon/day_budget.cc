#include "daemon/day_budget.h"

#include <algorithm>

namespace terra::daemon {
namespace {

using std::chrono::milliseconds;

milliseconds Until(DayBudget::TimePoint at, DayBudget::TimePoint now) {
  // Rounded up, so that waiting the returned time always reaches `at`.
  return std::chrono::ceil<milliseconds>(at - now);
}

}  // namespace

DayBudget::DayBudget(DayBudgetOptions options) : options_(options) {}

milliseconds DayBudget::Reserve(const std::string& user_id, int days,
                                TimePoint now) {
  std::lock_guard lock(mutex_);
  UserState& state = users_[user_id];
  Prune(&state, now, options_.window);

  // A pause from a 429 wins over everything else.
  if (now < state.paused_until) {
    return Until(state.paused_until, now);
  }

  // Terra's own count, while its window lasts.
  if (state.server_remaining >= 0 && now < state.server_reset_at &&
      days > state.server_remaining) {
    return Until(state.server_reset_at, now);
  }

  milliseconds wait = LocalWait(state, days, now);
  if (wait > milliseconds::zero()) {
    return wait;
  }

  state.charges.push_back({now, days});
  if (state.server_remaining >= 0 && now < state.server_reset_at) {
    state.server_remaining -= days;
  }
  return milliseconds::zero();
}

void DayBudget::Observe(const std::string& user_id, int64_t remaining_days,
                        milliseconds reset_after, TimePoint now) {
  std::lock_guard lock(mutex_);
  UserState& state = users_[user_id];
  state.server_remaining = std::max<int64_t>(remaining_days, 0);
  state.server_reset_at = now + reset_after;
}

void DayBudget::Pause(const std::string& user_id, milliseconds wait,
                      TimePoint now) {
  std::lock_guard lock(mutex_);
  UserState& state = users_[user_id];
  state.paused_until = std::max(state.paused_until, now + wait);
}

int DayBudget::Used(const std::string& user_id, TimePoint now) const {
  std::lock_guard lock(mutex_);
  auto found = users_.find(user_id);
  return found == users_.end() ? 0 : Sum(found->second, now, options_.window);
}

int DayBudget::Sum(const UserState& state, TimePoint now, milliseconds window) {
  int total = 0;
  for (const Charge& charge : state.charges) {
    if (charge.at > now - window) {
      total += charge.days;
    }
  }
  return total;
}

void DayBudget::Prune(UserState* state, TimePoint now, milliseconds window) {
  while (!state->charges.empty() && state->charges.front().at <= now - window) {
    state->charges.pop_front();
  }
}

// Returns how long until enough of the oldest charges leave the window for
// `days` more to fit, or zero when they fit now.
milliseconds DayBudget::LocalWait(const UserState& state, int days,
                                  TimePoint now) const {
  int used = Sum(state, now, options_.window);
  if (used + days <= options_.days_per_window ||
      (used == 0 && state.charges.empty())) {
    return milliseconds::zero();
  }
  int excess = used + days - options_.days_per_window;
  for (const Charge& charge : state.charges) {
    excess -= charge.days;
    if (excess <= 0 || &charge == &state.charges.back()) {
      return Until(charge.at + options_.window, now) + milliseconds(1);
    }
  }
  return options_.window;
}

}  // namespace terra::daemon
