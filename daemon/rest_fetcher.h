// Fetches one window of one data type for one Terra user, within Terra's
// rate limits: it reserves the window's days in the user's DayBudget, waits
// for one of a fixed number of request slots, and retries what can succeed
// later. It classifies the outcome; applying the data is the caller's job.
//
//   200 with data               kData (the body is valid JSON)
//   200 `processing`            kProcessing, with retry_after_seconds
//   429 rule r2                 waits for Retry-After, then retries
//   429 rule r1, 413, 504       kSplit: ask again with a smaller window
//   5xx, timeouts, connection
//   failures, invalid JSON      retried with exponential backoff and jitter,
//                               then kFailed
//   other 4xx                   kFailed at once

#ifndef TERRA_DAEMON_REST_FETCHER_H_
#define TERRA_DAEMON_REST_FETCHER_H_

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "daemon/date_windows.h"
#include "daemon/day_budget.h"
#include "daemon/metrics.h"
#include "daemon/terra_client.h"

namespace terra::daemon {

struct FetcherOptions {
  // Attempts per window for failures that may pass (5xx, timeouts).
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{std::chrono::seconds(1)};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(2)};

  // 429 responses of rule r2 waited out per window before giving up.
  int max_rate_limit_waits = 20;

  // Requests in flight at once, across all users.
  size_t max_concurrent_requests = 4;

  bool with_samples = false;

  // Counts each response by status ("error" when none arrived); may be
  // null.
  CounterFamily* requests_by_status = nullptr;
};

// One request: a data type over a window, or without dates (`athlete`).
struct FetchRequest {
  std::string user_id;
  std::string type;
  std::optional<DateWindow> window;
};

enum class FetchStatus { kData, kProcessing, kSplit, kFailed };

struct FetchResult {
  FetchStatus status = FetchStatus::kFailed;
  std::string body;                     // kData: the response body
  int64_t requested_ms = 0;             // system clock ms of the last request
  std::chrono::seconds retry_after{0};  // kProcessing
  std::string error;                    // kFailed and kSplit: why
  int requests = 0;                     // HTTP requests made
};

// Thread safety: Fetch may be called from any thread; callbacks run on the
// io_context's threads. Owners must keep it alive while fetches run.
class RestFetcher {
 public:
  using Callback = std::function<void(FetchResult result)>;

  RestFetcher(boost::asio::io_context& io_context, TerraClient* client,
              DayBudget* budget, FetcherOptions options);

  // Fetches `request` and calls `done` exactly once.
  void Fetch(FetchRequest request, Callback done);

  // Runs `start` once a request slot is free; the slot is held until
  // ReleaseSlot.
  void AcquireSlot(std::function<void()> start);
  void ReleaseSlot();

  // Runs `next` on the io_context after `wait`, unless Stop is called
  // first. Waits in slices of at most a second, so that Stop lets the
  // io_context run out of work promptly.
  void After(std::chrono::milliseconds wait, std::function<void()> next);

  // Drops every pending wait and fetch that has not started its request.
  void Stop();

  // A backoff delay for `attempt` (1-based): doubling from the initial
  // delay up to the maximum, scaled by a random factor in [0.5, 1].
  [[nodiscard]] std::chrono::milliseconds Backoff(int attempt);

  boost::asio::io_context& io_context() { return io_context_; }
  TerraClient* client() { return client_; }
  DayBudget* budget() { return budget_; }
  const FetcherOptions& options() const { return options_; }

 private:
  boost::asio::io_context& io_context_;
  TerraClient* client_;
  DayBudget* budget_;
  const FetcherOptions options_;

  std::mutex mutex_;
  bool stopping_ = false;
  size_t in_flight_ = 0;
  std::deque<std::function<void()>> waiting_;
  std::mt19937 random_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_REST_FETCHER_H_
