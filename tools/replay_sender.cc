#include "tools/replay_sender.h"

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "daemon/signature.h"
#include "tools/exit_codes.h"
#include "tools/progress_line.h"

namespace terra::tools {
namespace {

constexpr std::string_view kPrefix = "terra-syncctl replay: ";
constexpr unsigned kUnauthorized = 401;
constexpr unsigned kServiceUnavailable = 503;
constexpr unsigned kFirstServerError = 500;

struct Job {
  store::DeliveryRecord record;
  std::string trace_id;
};

// A queue between the reader and the workers, bounded so that a large input
// is never held in memory.
class JobQueue {
 public:
  explicit JobQueue(size_t capacity) : capacity_(capacity) {}

  // Blocks while the queue is full. Returns false once it is closed.
  bool Push(Job job) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || jobs_.size() < capacity_; });
    if (closed_) return false;
    jobs_.push_back(std::move(job));
    not_empty_.notify_one();
    return true;
  }

  // Blocks until a job arrives. Returns nullopt once closed and drained.
  std::optional<Job> Pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
    if (jobs_.empty()) return std::nullopt;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    not_full_.notify_one();
    return job;
  }

  // Wakes everyone; `drop` discards queued jobs as well.
  void Close(bool drop) {
    std::lock_guard lock(mutex_);
    closed_ = true;
    if (drop) jobs_.clear();
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Job> jobs_;
  bool closed_ = false;
};

// Spaces requests evenly at `rate` per second across all workers.
class RateLimiter {
 public:
  explicit RateLimiter(double rate) : rate_(rate) {}

  void Wait() {
    if (rate_ <= 0) return;
    auto interval =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(1.0 / rate_));
    std::chrono::steady_clock::time_point slot;
    {
      std::lock_guard lock(mutex_);
      slot = std::max(next_, std::chrono::steady_clock::now());
      next_ = slot + interval;
    }
    std::this_thread::sleep_until(slot);
  }

 private:
  double rate_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point next_;
};

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::pair<std::string, std::string>> Headers(
    const Job& job, const std::string& secret) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"terra-signature",
       daemon::SignBody(secret, NowSeconds(), job.record.body)}};
  if (!job.trace_id.empty()) {
    headers.emplace_back("X-Terra-Trace-Id", job.trace_id);
  }
  if (!job.record.terra_reference.empty()) {
    headers.emplace_back("terra-reference", job.record.terra_reference);
  }
  // The ordering timestamp that replay --into would apply; with a fresh `t`
  // the daemon's cap leaves it as it is.
  if (std::optional<int64_t> ordering_ms = ReplayOrderingMs(job.record)) {
    headers.emplace_back("X-Terra-Ordering-Timestamp",
                         std::to_string(*ordering_ms));
  }
  return headers;
}

// Counts a daemon's response. The daemon returns 200 with the outcome, or with
// "duplicate delivery, already stored". A request that got no response, or a
// 5xx, failed; any other status is the daemon's rejection.
// Returns the reply's body without trailing white space.
std::string BodyText(const HttpReply& reply) {
  std::string text = reply.body;
  while (!text.empty() &&
         std::isspace(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  return text;
}

void CountReply(const HttpReply& reply, ReplayTally* tally) {
  if (reply.status == 0) {
    tally->Failed(reply.error);
    return;
  }
  std::string text = BodyText(reply);
  std::string reason = "HTTP " + std::to_string(reply.status) + ": " + text;
  if (reply.status == 200 && text.starts_with("duplicate")) {
    tally->Duplicate();
  } else if (reply.status == 200) {
    tally->Applied(text);
  } else if (reply.status >= kFirstServerError) {
    tally->Failed(reason);
  } else {
    tally->Rejected(reason);
  }
}

class Sender {
 public:
  Sender(const ReplayToOptions& options, ReplayTally* tally, std::ostream& err)
      : options_(options),
        tally_(tally),
        err_(err),
        queue_(2 * static_cast<size_t>(options.concurrency)),
        limiter_(options.rate),
        progress_(err) {}

  int Run(const ReplayInput& input) {
    std::vector<std::thread> workers;
    for (int i = 0; i < options_.concurrency; ++i) {
      workers.emplace_back([this] { Work(); });
    }

    uint64_t index = 0;
    int code = ReadReplayInput(
        input,
        [&](store::DeliveryRecord record, double fraction) {
          fraction_.store(fraction);
          std::string trace_id =
              ReplayTraceId(record, options_.trace_ids, index++);
          return queue_.Push({std::move(record), std::move(trace_id)});
        },
        tally_, err_);
    queue_.Close(false);
    for (std::thread& worker : workers) {
      worker.join();
    }
    progress_.Finish();
    if (unreachable_.load()) return kExitUnreachable;
    return signature_rejected_.load() ? kExitUsage : code;
  }

 private:
  void Work() {
    HttpPoster poster(options_.target, options_.timeout);
    while (std::optional<Job> job = queue_.Pop()) {
      HttpReply reply = Send(&poster, *job);
      if (reply.connect_failed) {
        Unreachable(reply.error);
        return;
      }
      if (reply.status == 0) {
        LogFailure(*job, reply.error);
      }
      CountReply(reply, tally_);
      progress_.Update(tally_->total(), fraction_.load());
      if (reply.status == kUnauthorized) {
        SignatureRejected(reply);
        return;
      }
    }
  }

  HttpReply Send(HttpPoster* poster, const Job& job) {
    HttpReply reply;
    for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
      limiter_.Wait();
      reply = poster->Post(Headers(job, options_.secret), job.record.body);
      if (reply.status != kServiceUnavailable || attempt == kMaxAttempts) {
        break;
      }
      std::this_thread::sleep_for(kRetryDelay);
    }
    return reply;
  }

  // Names the delivery whose request failed after its connection opened; the
  // replay goes on with the next one.
  void LogFailure(const Job& job, const std::string& error) {
    std::lock_guard lock(err_mutex_);
    err_ << kPrefix << "delivery "
         << (job.trace_id.empty() ? "without trace id" : job.trace_id)
         << " failed: " << error << "\n";
  }

  // Stops the replay: without a daemon every further delivery would fail.
  void Unreachable(const std::string& error) {
    if (!unreachable_.exchange(true)) {
      err_ << kPrefix << error
           << "; check that terra-syncd is running and listens at that "
              "address\n";
    }
    tally_->Failed("daemon unreachable");
    queue_.Close(true);
  }

  // Stops the replay: every delivery is signed with the same secret and a
  // fresh time, so the daemon would reject the rest as well.
  void SignatureRejected(const HttpReply& reply) {
    if (!signature_rejected_.exchange(true)) {
      std::lock_guard lock(err_mutex_);
      err_ << kPrefix
           << "the daemon rejected the signature (HTTP 401: " << BodyText(reply)
           << "); stopping, because every delivery is signed the same way "
              "(with --secret-file and a fresh time)\n";
    }
    queue_.Close(true);
  }

  const ReplayToOptions& options_;
  ReplayTally* tally_;
  std::ostream& err_;
  std::mutex err_mutex_;  // workers report failures on `err_` one at a time
  JobQueue queue_;
  RateLimiter limiter_;
  ProgressLine progress_;
  std::atomic<double> fraction_{0};
  std::atomic<bool> unreachable_{false};
  std::atomic<bool> signature_rejected_{false};
};

}  // namespace

int ReplayTo(const ReplayInput& input, const ReplayToOptions& options,
             ReplayTally* tally, std::ostream& out, std::ostream& err) {
  if (!options.dry_run) {
    return Sender(options, tally, err).Run(input);
  }
  return ListReplayInput(input, options.trace_ids, "would send", tally, out,
                         err);
}

}  // namespace terra::tools
