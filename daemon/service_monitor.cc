#include "daemon/service_monitor.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <deque>

#include "daemon/systemd.h"
#include "daemon/webhook_handler.h"
#include "store/committer.h"

namespace terra::daemon {
namespace {

namespace asio = boost::asio;

// How often STATUS= is refreshed; systemctl shows the latest.
constexpr auto kStatusInterval = std::chrono::seconds(10);

uint64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t TotalDeliveries(const WebhookCounters& counters) {
  return counters.stored + counters.recorded + counters.archived +
         counters.quarantined + counters.duplicates;
}

}  // namespace

// Every timer handler, and Start and Stop through a post, runs on `strand`,
// so the timers and the fields below are never used by two io threads at
// once.
struct ServiceMonitor::State {
  State(asio::io_context& io_context, const store::Committer* committer_in,
        const WebhookCounters* counters_in,
        std::optional<std::chrono::microseconds> interval,
        std::function<size_t()> pending_jobs_in)
      : strand(asio::make_strand(io_context)),
        committer(committer_in),
        counters(counters_in),
        watchdog_interval(interval),
        pending_jobs(std::move(pending_jobs_in)),
        watchdog_timer(strand),
        status_timer(strand) {}

  asio::strand<asio::io_context::executor_type> strand;
  const store::Committer* committer;
  const WebhookCounters* counters;
  std::optional<std::chrono::microseconds> watchdog_interval;
  std::function<size_t()> pending_jobs;
  asio::steady_timer watchdog_timer;
  asio::steady_timer status_timer;
  bool stopped = false;
  bool reported_stall = false;

  // Delivery totals sampled every kStatusInterval over the last minute.
  std::deque<uint64_t> samples;
  uint64_t last_total = 0;
  std::optional<uint64_t> last_delivery_ms;
};

namespace {

using State = ServiceMonitor::State;

void ScheduleWatchdog(std::shared_ptr<State> state);
void ScheduleStatus(std::shared_ptr<State> state);

// Pings the watchdog unless the committer is stalled. That this handler runs
// at all shows that the io threads are serving the event loop.
void OnWatchdog(const std::shared_ptr<State>& state) {
  store::CommitterStats stats = state->committer->stats();
  auto patience = std::chrono::duration_cast<std::chrono::milliseconds>(
      *state->watchdog_interval * 2);
  bool stalled = ServiceMonitor::CommitterStalled(
      state->committer->pending(), stats.last_progress_ms, SteadyNowMs(),
      patience);
  if (stalled) {
    if (!state->reported_stall) {
      spdlog::error("committer made no progress for {} ms with {} deliveries "
                    "waiting; withholding the watchdog ping so systemd "
                    "restarts the service",
                    patience.count(), state->committer->pending());
      state->reported_stall = true;
    }
  } else {
    state->reported_stall = false;
    systemd::NotifyWatchdog();
  }
  ScheduleWatchdog(state);
}

void ScheduleWatchdog(std::shared_ptr<State> state) {
  if (state->stopped || !state->watchdog_interval) {
    return;
  }
  state->watchdog_timer.expires_after(*state->watchdog_interval);
  state->watchdog_timer.async_wait(
      [state](const boost::system::error_code& error) {
        if (!error && !state->stopped) {
          OnWatchdog(state);
        }
      });
}

void OnStatus(const std::shared_ptr<State>& state) {
  uint64_t total = TotalDeliveries(*state->counters);
  if (total != state->last_total) {
    state->last_delivery_ms = SteadyNowMs();
    state->last_total = total;
  }
  state->samples.push_back(total);
  constexpr size_t kSamplesPerMinute = 60 / kStatusInterval.count() + 1;
  while (state->samples.size() > kSamplesPerMinute) {
    state->samples.pop_front();
  }

  std::optional<uint64_t> age;
  if (state->last_delivery_ms) {
    age = (SteadyNowMs() - *state->last_delivery_ms) / 1000;
  }
  systemd::NotifyStatus(ServiceMonitor::StatusLine(
      total - state->samples.front(), age, state->committer->pending(),
      state->pending_jobs ? state->pending_jobs() : 0));
  ScheduleStatus(state);
}

void ScheduleStatus(std::shared_ptr<State> state) {
  if (state->stopped) {
    return;
  }
  state->status_timer.expires_after(kStatusInterval);
  state->status_timer.async_wait(
      [state](const boost::system::error_code& error) {
        if (!error && !state->stopped) {
          OnStatus(state);
        }
      });
}

}  // namespace

ServiceMonitor::ServiceMonitor(
    asio::io_context& io_context, const store::Committer* committer,
    const WebhookCounters* counters,
    std::optional<std::chrono::microseconds> watchdog_interval,
    std::function<size_t()> pending_jobs)
    : state_(std::make_shared<State>(io_context, committer, counters,
                                     watchdog_interval,
                                     std::move(pending_jobs))) {}

ServiceMonitor::~ServiceMonitor() = default;

void ServiceMonitor::Start() {
  if (state_->watchdog_interval) {
    spdlog::info("systemd watchdog on: pinging every {} ms",
                 state_->watchdog_interval->count() / 1000);
    systemd::NotifyWatchdog();
  }
  asio::post(state_->strand, [state = state_] {
    ScheduleWatchdog(state);
    ScheduleStatus(state);
  });
}

void ServiceMonitor::Stop() {
  asio::post(state_->strand, [state = state_] {
    state->stopped = true;
    state->watchdog_timer.cancel();
    state->status_timer.cancel();
  });
}

bool ServiceMonitor::CommitterStalled(size_t pending, uint64_t last_progress_ms,
                                      uint64_t now_ms,
                                      std::chrono::milliseconds patience) {
  if (pending == 0) {
    return false;
  }
  return now_ms > last_progress_ms &&
         now_ms - last_progress_ms > static_cast<uint64_t>(patience.count());
}

std::string ServiceMonitor::StatusLine(uint64_t deliveries_last_minute,
                                       std::optional<uint64_t> seconds_since_last,
                                       size_t pending_commits,
                                       size_t pending_jobs) {
  std::string line = std::to_string(deliveries_last_minute) +
                     " deliveries in the last minute";
  line += seconds_since_last
              ? ", last " + std::to_string(*seconds_since_last) + " s ago"
              : ", none since start";
  line += ", " + std::to_string(pending_commits) + " waiting to commit, " +
          std::to_string(pending_jobs) + " jobs pending";
  return line;
}

}  // namespace terra::daemon
