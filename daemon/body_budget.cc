#include "daemon/body_budget.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace terra::daemon {

struct BodyBudget::Waiter {
  Waiter(size_t bytes_in, boost::asio::any_io_executor executor_in,
         Granted granted_in)
      : bytes(bytes_in),
        executor(std::move(executor_in)),
        timer(executor),
        granted(std::move(granted_in)) {}

  size_t bytes;
  boost::asio::any_io_executor executor;
  boost::asio::steady_timer timer;
  Granted granted;
  bool finished = false;  // guarded by BodyBudget::mutex_
};

BodyBudget::BodyBudget(size_t capacity_bytes) : capacity_(capacity_bytes) {}

void BodyBudget::Acquire(size_t bytes, boost::asio::any_io_executor executor,
                         std::chrono::milliseconds wait, Granted granted) {
  std::unique_lock lock(mutex_);
  if (bytes > capacity_) {
    lock.unlock();
    boost::asio::post(executor, [granted = std::move(granted)] { granted(false); });
    return;
  }

  // Waiters are served in order, so a large body is not starved by a stream
  // of small ones that would each fit.
  if (waiters_.empty() && in_use_ + bytes <= capacity_) {
    in_use_ += bytes;
    lock.unlock();
    boost::asio::post(executor, [granted = std::move(granted)] { granted(true); });
    return;
  }

  auto waiter = std::make_shared<Waiter>(bytes, executor, std::move(granted));
  waiters_.push_back(waiter);
  waiter->timer.expires_after(wait);
  lock.unlock();

  waiter->timer.async_wait([this, waiter](const boost::system::error_code&) {
    {
      std::lock_guard guard(mutex_);
      if (waiter->finished) {
        return;  // granted before the wait ran out
      }
      waiter->finished = true;
      std::erase(waiters_, waiter);
    }
    waiter->granted(false);
  });
}

void BodyBudget::Release(size_t bytes) {
  std::deque<std::shared_ptr<Waiter>> ready;
  {
    std::lock_guard lock(mutex_);
    in_use_ -= bytes < in_use_ ? bytes : in_use_;
    GrantWaitersLocked(&ready);
  }
  for (auto& waiter : ready) {
    boost::asio::post(waiter->executor, [waiter] {
      waiter->timer.cancel();
      waiter->granted(true);
    });
  }
}

void BodyBudget::GrantWaitersLocked(
    std::deque<std::shared_ptr<Waiter>>* ready) {
  while (!waiters_.empty() &&
         in_use_ + waiters_.front()->bytes <= capacity_) {
    std::shared_ptr<Waiter> waiter = std::move(waiters_.front());
    waiters_.pop_front();
    waiter->finished = true;
    in_use_ += waiter->bytes;
    ready->push_back(std::move(waiter));
  }
}

void BodyBudget::SetCapacity(size_t capacity_bytes) {
  std::deque<std::shared_ptr<Waiter>> ready;
  {
    std::lock_guard lock(mutex_);
    capacity_ = capacity_bytes;
    GrantWaitersLocked(&ready);
  }
  for (auto& waiter : ready) {
    boost::asio::post(waiter->executor, [waiter] {
      waiter->timer.cancel();
      waiter->granted(true);
    });
  }
}

size_t BodyBudget::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

size_t BodyBudget::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

}  // namespace terra::daemon
