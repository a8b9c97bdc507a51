// A process-wide budget of request-body bytes held in memory. A request
// reserves room in steps ahead of the bytes that arrive and releases it once
// its response is written, so a burst of large deliveries waits (or gets 503)
// instead of exhausting memory.

#ifndef TERRA_DAEMON_BODY_BUDGET_H_
#define TERRA_DAEMON_BODY_BUDGET_H_

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace terra::daemon {

// Thread safety: all methods may be called from any thread.
class BodyBudget {
 public:
  using Granted = std::function<void(bool granted)>;

  explicit BodyBudget(size_t capacity_bytes);

  // Reserves `bytes`. Calls `granted(true)` through `executor` once they fit,
  // in request order, or `granted(false)` if they do not fit within `wait`.
  // Requests larger than the capacity are never granted.
  void Acquire(size_t bytes, boost::asio::any_io_executor executor,
               std::chrono::milliseconds wait, Granted granted);

  // Returns `bytes` from an earlier grant and wakes waiters that now fit.
  void Release(size_t bytes);

  // Changes the capacity (configuration reload). Bytes already granted stay
  // granted; waiters that now fit are woken.
  void SetCapacity(size_t capacity_bytes);

  size_t in_use() const;
  size_t waiting() const;

 private:
  struct Waiter;

  void GrantWaitersLocked(std::deque<std::shared_ptr<Waiter>>* ready);

  mutable std::mutex mutex_;
  size_t capacity_;
  size_t in_use_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_BODY_BUDGET_H_
