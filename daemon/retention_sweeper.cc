#include "daemon/retention_sweeper.h"

#include <spdlog/spdlog.h>

#include "store/retention.h"

namespace terra::daemon {
namespace {

// Archive entries one pass reads; a pass takes tens of milliseconds.
constexpr size_t kEntriesPerPass = 10000;

int64_t UnixMs(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             time.time_since_epoch())
      .count();
}

}  // namespace

RetentionSweeper::RetentionSweeper(store::Store* store, int retention_days,
                                   ServiceMetrics* metrics, Clock clock)
    : store_(store),
      metrics_(metrics),
      clock_(clock ? std::move(clock) : Clock(std::chrono::system_clock::now)),
      retention_days_(retention_days) {}

RetentionSweeper::~RetentionSweeper() { Stop(); }

void RetentionSweeper::Start(std::chrono::seconds interval) {
  thread_ = std::thread([this, interval] { Run(interval); });
}

void RetentionSweeper::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void RetentionSweeper::SetRetentionDays(int days) {
  retention_days_.store(days);
}

bool RetentionSweeper::Stopping() {
  std::lock_guard lock(mutex_);
  return stop_;
}

void RetentionSweeper::Run(std::chrono::seconds interval) {
  while (!Stopping()) {
    Sweep();
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, interval, [this] { return stop_; });
  }
}

// Deletes what expired, pass by pass, and logs the sweep once.
void RetentionSweeper::Sweep() {
  int days = retention_days_.load();
  if (days <= 0) {
    ++sweeps_;
    return;
  }
  std::chrono::system_clock::time_point now = clock_();
  int64_t cutoff_ms = UnixMs(now - std::chrono::hours(24) * days);

  uint64_t deleted = 0;
  uint64_t undated = 0;
  store::ExpiryPass pass;
  do {
    store::Status status = store::ExpireDeliveries(
        store_, cutoff_ms, UnixMs(now), kEntriesPerPass, &pass);
    if (!status.ok()) {
      spdlog::error(
          "retention: deleting expired deliveries failed, trying "
          "again at the next sweep: {}",
          status.message());
      break;
    }
    deleted += pass.deleted;
    undated += pass.undated;
    deleted_ += pass.deleted;
    if (metrics_ != nullptr && pass.deleted > 0) {
      metrics_->deliveries_expired->Add({}, pass.deleted);
    }
  } while (!pass.complete && !Stopping());

  if (deleted > 0) {
    spdlog::info(
        "retention: deleted {} archived deliveries received more than "
        "{} day(s) ago (sequences below {})",
        deleted, days, pass.expired_before);
  }
  if (undated > 0) {
    spdlog::warn(
        "retention: {} of the deleted deliveries had an unreadable received "
        "time or one more than a day ahead of the clock",
        undated);
  }
  ++sweeps_;
}

}  // namespace terra::daemon
