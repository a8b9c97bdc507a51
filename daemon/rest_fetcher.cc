#include "daemon/rest_fetcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <memory>

namespace terra::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

// How far a body's start is searched for a `processing` response: such bodies
// are small, and data bodies can be tens of MB.
constexpr size_t kProcessingProbeBytes = 4096;

// Maximum single timer wait; see RestFetcher::After.
constexpr milliseconds kWaitSlice = std::chrono::seconds(1);

// Maximum wait that a `processing` response can request: a week, the same
// bound that TerraClient applies to Retry-After.
constexpr double kMaxProcessingWaitS = 7 * 86400.0;

// Wait after a 429 of rule r2 that lacks Retry-After.
constexpr milliseconds kDefaultRateLimitWait = std::chrono::seconds(60);

int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Describe(const FetchRequest& request) {
  std::string text = request.type + " for user " + request.user_id;
  if (request.window) {
    text += " " + FormatDate(request.window->start) + ".." +
            FormatDate(request.window->end);
  }
  return text;
}

// Returns the seconds of a `processing` response, or nothing for any other body.
std::optional<std::chrono::seconds> ProcessingDelay(const std::string& body) {
  if (body.size() > kProcessingProbeBytes ||
      body.find("processing") == std::string::npos) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  const json::object* object = ec ? nullptr : value.if_object();
  if (object == nullptr) {
    return std::nullopt;
  }
  const json::value* status = object->if_contains("status");
  if (status == nullptr || !status->is_string() ||
      status->get_string() != "processing") {
    return std::nullopt;
  }
  const json::value* delay = object->if_contains("retry_after_seconds");
  int64_t seconds = 0;
  if (delay != nullptr && delay->is_number()) {
    // Clamped before the cast: a double beyond int64 makes the cast undefined.
    seconds = static_cast<int64_t>(
        std::clamp(delay->to_number<double>(), 0.0, kMaxProcessingWaitS));
  }
  return std::chrono::seconds(std::max<int64_t>(seconds, 0));
}

bool IsJsonObject(const std::string& body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  return !ec && value.is_object();
}

// One fetch, through its attempts: DoReserve, DoRequest, OnResponse.
class Fetch : public std::enable_shared_from_this<Fetch> {
 public:
  Fetch(RestFetcher* fetcher, FetchRequest request, RestFetcher::Callback done)
      : fetcher_(fetcher),
        request_(std::move(request)),
        done_(std::move(done)) {}

  void DoReserve() {
    int days = request_.window ? request_.window->days() : 1;
    milliseconds wait = fetcher_->budget()->Reserve(
        request_.user_id, days, std::chrono::steady_clock::now());
    if (wait > milliseconds::zero()) {
      spdlog::debug("REST {}: day budget spent, waiting {} ms",
                    Describe(request_), wait.count());
      return Wait(wait, &Fetch::DoReserve);
    }
    fetcher_->AcquireSlot([self = shared_from_this()] { self->DoRequest(); });
  }

 private:
  void DoRequest() {
    std::vector<QueryParam> query = {{"user_id", request_.user_id}};
    if (request_.window) {
      query.emplace_back("start_date", FormatDate(request_.window->start));
      query.emplace_back("end_date", FormatDate(request_.window->end));
    }
    query.emplace_back("to_webhook", "false");
    if (request_.type != "athlete") {
      query.emplace_back("with_samples",
                         fetcher_->options().with_samples ? "true" : "false");
    }
    result_.requested_ms = NowMs();
    ++result_.requests;
    fetcher_->client()->Get(
        "/" + request_.type, query,
        [self = shared_from_this()](TerraResponse response) {
          self->OnResponse(std::move(response));
        });
  }

  void OnResponse(TerraResponse response) {
    fetcher_->ReleaseSlot();
    if (CounterFamily* counter = fetcher_->options().requests_by_status) {
      counter->Add({response.status == 0 ? std::string("error")
                                         : std::to_string(response.status)});
    }
    auto now = std::chrono::steady_clock::now();
    if (response.rate_limit_remaining && response.rate_limit_reset_after) {
      fetcher_->budget()->Observe(request_.user_id,
                                  *response.rate_limit_remaining,
                                  *response.rate_limit_reset_after, now);
    }

    if (response.status == 0) {
      return Retry(response.error_detail);
    }
    if (response.status == 200) {
      return OnOk(std::move(response.body));
    }
    if (response.status == 429) {
      return OnRateLimited(response);
    }
    bool splittable = request_.window && request_.window->days() >= 2;
    if ((response.status == 413 || response.status == 504) && splittable) {
      return Finish(FetchStatus::kSplit,
                    "HTTP " + std::to_string(response.status));
    }
    if (response.status >= 500) {
      return Retry("HTTP " + std::to_string(response.status));
    }
    Finish(FetchStatus::kFailed, "HTTP " + std::to_string(response.status) +
                                     ": " + response.body.substr(0, 200));
  }

  void OnOk(std::string body) {
    if (std::optional<std::chrono::seconds> delay = ProcessingDelay(body)) {
      result_.retry_after = *delay;
      return Finish(FetchStatus::kProcessing, "");
    }
    if (!IsJsonObject(body)) {
      return Retry("response body is not a JSON object");
    }
    result_.body = std::move(body);
    Finish(FetchStatus::kData, "");
  }

  // Rule r1 caps the days of one request, so only a smaller window helps;
  // rule r2 is the hourly budget, so waiting helps.
  void OnRateLimited(const TerraResponse& response) {
    if (response.rate_limit_rule == "r1") {
      return Finish(FetchStatus::kSplit, "HTTP 429 rule r1");
    }
    if (++rate_limit_waits_ > fetcher_->options().max_rate_limit_waits) {
      return Finish(
          FetchStatus::kFailed,
          "HTTP 429 rule " + response.rate_limit_rule + " too many times");
    }
    milliseconds wait = response.retry_after.value_or(kDefaultRateLimitWait);
    spdlog::warn("REST {}: rate limited (rule {}), retrying in {} ms",
                 Describe(request_), response.rate_limit_rule, wait.count());
    fetcher_->budget()->Pause(request_.user_id, wait,
                              std::chrono::steady_clock::now());
    DoReserve();
  }

  void Retry(const std::string& error) {
    if (++failures_ >= fetcher_->options().max_attempts) {
      return Finish(FetchStatus::kFailed, error);
    }
    milliseconds wait = fetcher_->Backoff(failures_);
    spdlog::warn("REST {} failed (attempt {} of {}): {}; retrying in {} ms",
                 Describe(request_), failures_,
                 fetcher_->options().max_attempts, error, wait.count());
    Wait(wait, &Fetch::DoReserve);
  }

  void Wait(milliseconds wait, void (Fetch::*next)()) {
    fetcher_->After(wait,
                    [self = shared_from_this(), next] { ((*self).*next)(); });
  }

  void Finish(FetchStatus status, std::string error) {
    if (status == FetchStatus::kFailed) {
      spdlog::error("REST {} failed for good: {}", Describe(request_), error);
    }
    result_.status = status;
    result_.error = std::move(error);
    RestFetcher::Callback done = std::move(done_);
    done(std::move(result_));
  }

  RestFetcher* fetcher_;
  FetchRequest request_;
  RestFetcher::Callback done_;
  FetchResult result_;
  int failures_ = 0;
  int rate_limit_waits_ = 0;
};

}  // namespace

RestFetcher::RestFetcher(asio::io_context& io_context, TerraClient* client,
                         DayBudget* budget, FetcherOptions options)
    : io_context_(io_context),
      client_(client),
      budget_(budget),
      options_(options),
      random_(std::random_device{}()) {}

void RestFetcher::Fetch(FetchRequest request, Callback done) {
  std::make_shared<class Fetch>(this, std::move(request), std::move(done))
      ->DoReserve();
}

namespace {

void WaitUntil(RestFetcher* fetcher, std::shared_ptr<asio::steady_timer> timer,
               std::chrono::steady_clock::time_point deadline,
               const bool* stopping, std::mutex* mutex,
               std::function<void()> next) {
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(*mutex);
    if (*stopping) {
      return;
    }
  }
  if (now >= deadline) {
    return next();
  }
  timer->expires_after(std::min<std::chrono::steady_clock::duration>(
      kWaitSlice, deadline - now));
  timer->async_wait([fetcher, timer, deadline, stopping, mutex,
                     next = std::move(next)](boost::system::error_code ec) {
    if (!ec) {
      WaitUntil(fetcher, timer, deadline, stopping, mutex, next);
    }
  });
}

}  // namespace

void RestFetcher::After(milliseconds wait, std::function<void()> next) {
  auto timer = std::make_shared<asio::steady_timer>(io_context_);
  WaitUntil(this, timer, std::chrono::steady_clock::now() + wait, &stopping_,
            &mutex_, std::move(next));
}

void RestFetcher::Stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  waiting_.clear();
}

void RestFetcher::AcquireSlot(std::function<void()> start) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return;
    }
    if (in_flight_ >= options_.max_concurrent_requests) {
      waiting_.push_back(std::move(start));
      return;
    }
    ++in_flight_;
  }
  start();
}

void RestFetcher::ReleaseSlot() {
  std::function<void()> next;
  {
    std::lock_guard lock(mutex_);
    if (waiting_.empty()) {
      --in_flight_;
      return;
    }
    next = std::move(waiting_.front());
    waiting_.pop_front();
  }
  // The slot passes to the next waiter without being released.
  asio::post(io_context_, std::move(next));
}

milliseconds RestFetcher::Backoff(int attempt) {
  milliseconds delay = options_.initial_backoff;
  for (int i = 1; i < attempt && delay < options_.max_backoff; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, options_.max_backoff);
  std::lock_guard lock(mutex_);
  std::uniform_real_distribution<double> factor(0.5, 1.0);
  return milliseconds(static_cast<int64_t>(delay.count() * factor(random_)));
}

}  // namespace terra::daemon
