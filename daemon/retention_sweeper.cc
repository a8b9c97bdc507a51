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
                                   int job_retention_days,
                                   ServiceMetrics* metrics, Clock clock)
    : store_(store),
      metrics_(metrics),
      clock_(clock ? std::move(clock) : Clock(std::chrono::system_clock::now)),
      retention_days_(retention_days),
      job_retention_days_(job_retention_days) {}

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

void RetentionSweeper::SetJobRetentionDays(int days) {
  job_retention_days_.store(days);
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

// Deletes the expired deliveries, pass by pass, and logs the sweep once.
void RetentionSweeper::SweepDeliveries() {
  int days = retention_days_.load();
  if (days <= 0) {
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
}

// Deletes the expired finished jobs, pass by pass, and logs the sweep once.
void RetentionSweeper::SweepJobs() {
  int days = job_retention_days_.load();
  if (days <= 0) {
    return;
  }
  int64_t cutoff_ms = UnixMs(clock_() - std::chrono::hours(24) * days);

  uint64_t deleted = 0;
  store::JobExpiryPass pass;
  do {
    store::Status status = store::ExpireJobs(store_, cutoff_ms, jobs_next_,
                                             kEntriesPerPass, &pass);
    if (!status.ok()) {
      spdlog::error(
          "retention: deleting finished jobs failed, trying again at the "
          "next sweep: {}",
          status.message());
      break;
    }
    jobs_next_ = pass.next;
    deleted += pass.deleted;
    jobs_deleted_ += pass.deleted;
    if (metrics_ != nullptr && pass.deleted > 0) {
      metrics_->jobs_expired->Add({}, pass.deleted);
    }
  } while (!pass.complete && !Stopping());

  if (deleted > 0) {
    spdlog::info("retention: deleted {} jobs finished more than {} day(s) ago",
                 deleted, days);
  }
}

void RetentionSweeper::Sweep() {
  SweepDeliveries();
  SweepJobs();
  ++sweeps_;
}

}  // namespace terra::daemon
