// A job is one JSON object in the `jobs` family, keyed by its id (a store
// sequence number, big-endian):
//
//   {"kind": "backfill" | "reconcile", "state": "queued" | "running" |
//    "done" | "failed", "connection_id", "user_id", "reason",
//    "created_ms", "days" (backfill from a webhook: days of history),
//    "start_date", "end_date" (optional explicit range, end exclusive),
//    "checkpoint_key" (optional `meta` entry set to end_date on success),
//    "plan": [{"type", "start", "end", "processing_retried"}, ...]
//            (windows not yet stored; athlete has no dates),
//    "fetched": {"<type>": records stored}, "requests": int,
//    "errors": ["<window>: <reason>", ...], "notes": [...],
//    "started_ms", "finished_ms", "error"}

#include "daemon/job_runner.h"

#include <rocksdb/iterator.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <memory>

#include "daemon/scopes.h"
#include "store/committer.h"
#include "store/connection.h"
#include "store/delivery_applier.h"
#include "store/keys.h"
#include "store/store.h"

namespace terra::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::system_clock;

struct JobRunner::Shared : std::enable_shared_from_this<JobRunner::Shared> {
  Shared(asio::io_context& io_context_in, store::Store* store_in,
         const store::DeliveryApplier* applier_in,
         store::Committer* committer_in, RestFetcher* fetcher_in,
         JobRunnerOptions options_in, Clock clock_in)
      : io_context(io_context_in),
        store(store_in),
        applier(applier_in),
        committer(committer_in),
        fetcher(fetcher_in),
        options(std::move(options_in)),
        clock(std::move(clock_in)),
        scan_timer(io_context_in) {}

  int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               clock().time_since_epoch())
        .count();
  }

  void Scan();
  void ScheduleScan();
  void StartJob(uint64_t id, json::object job);
  void Finished(uint64_t id);
  void Commit(store::CommitRequest request, std::function<void(bool)> done);

  asio::io_context& io_context;
  store::Store* store;
  const store::DeliveryApplier* applier;
  store::Committer* committer;
  RestFetcher* fetcher;
  const JobRunnerOptions options;
  const Clock clock;
  asio::steady_timer scan_timer;

  mutable std::mutex mutex;
  std::set<uint64_t> running;
  bool stopping = false;
  uint64_t scan_from = 0;
  uint64_t previous_last_sequence = 0;
};

namespace {

std::string StringField(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string()
             ? std::string(value->get_string())
             : std::string();
}

int64_t IntField(const json::object& object, std::string_view key,
                 int64_t fallback) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_int64() ? value->get_int64() : fallback;
}

std::string DescribeWindow(const json::object& entry) {
  std::string text = StringField(entry, "type");
  if (entry.contains("start")) {
    text +=
        " " + StringField(entry, "start") + ".." + StringField(entry, "end");
  }
  return text;
}

json::object WindowEntry(const std::string& type, const DateWindow& window) {
  return {{"type", type},
          {"start", FormatDate(window.start)},
          {"end", FormatDate(window.end)}};
}

// Returns the body with `type` set to `type` when the response left it null
// or out, as Terra's REST responses may; the applier routes by it.
std::string WithType(std::string body, const std::string& type) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    return body;
  }
  const json::value* current = value.get_object().if_contains("type");
  if (current != nullptr && current->is_string()) {
    return body;
  }
  value.get_object()["type"] = type;
  return json::serialize(value);
}

// One job from its first (or resumed) window to its end: DoNext, OnFetched,
// then Store or Persist, then DoNext again.
class JobRun : public std::enable_shared_from_this<JobRun> {
 public:
  JobRun(std::shared_ptr<JobRunner::Shared> shared, uint64_t id,
         json::object job)
      : shared_(std::move(shared)),
        id_(id),
        key_(store::EncodeSequenceKey(id)),
        job_(std::move(job)) {}

  void Begin() {
    if (!job_.contains("plan")) {
      BuildPlan();
    }
    job_["state"] = "running";
    if (!job_.contains("started_ms")) {
      job_["started_ms"] = shared_->NowMs();
    }
    spdlog::info("job {} ({} for user {}) running: {} windows to fetch", id_,
                 StringField(job_, "kind"), StringField(job_, "user_id"),
                 Plan().size());
    Persist();
  }

 private:
  json::array& Plan() { return job_["plan"].as_array(); }

  bool IsBackfill() const { return StringField(job_, "kind") == "backfill"; }

  // Lays out the windows: every enabled type over the job's range, in
  // windows that stay inside one calendar month.
  void BuildPlan() {
    DateWindow range;
    if (!ParseDate(StringField(job_, "start_date"), &range.start) ||
        !ParseDate(StringField(job_, "end_date"), &range.end)) {
      int64_t days = IntField(job_, "days", 28);
      range.end = UtcDay(shared_->clock()) + std::chrono::days(1);
      range.start = range.end - std::chrono::days(days);
      job_["start_date"] = FormatDate(range.start);
      job_["end_date"] = FormatDate(range.end);
    }

    json::array plan;
    for (const std::string& type : AllowedTypes()) {
      if (type == "athlete") {
        plan.push_back(json::object{{"type", type}});
        continue;
      }
      for (const DateWindow& window : SplitIntoWindows(
               range.start, range.end, shared_->options.max_window_days)) {
        plan.push_back(WindowEntry(type, window));
      }
    }
    job_["plan"] = std::move(plan);
    job_["fetched"] = json::object();
    job_["errors"] = json::array();
    job_["requests"] = 0;
  }

  // The enabled types that the connection's scopes allow, where its scopes
  // name data types at all.
  std::vector<std::string> AllowedTypes() const {
    std::string value;
    store::Connection connection;
    std::string connection_id = StringField(job_, "connection_id");
    if (connection_id.empty() ||
        !shared_->store->Get(store::Family::kConnections, connection_id, &value)
             .ok() ||
        !store::DecodeConnection(value, &connection)) {
      return shared_->options.data_types;
    }
    std::vector<std::string> allowed = TypesAllowedByScopes(
        shared_->options.data_types, connection.Field(store::kFieldScopes));
    if (allowed.size() < shared_->options.data_types.size()) {
      spdlog::info("job {}: the scopes of connection {} allow {} of {} data types",
                   id_, connection_id, allowed.size(),
                   shared_->options.data_types.size());
    }
    return allowed;
  }

  void DoNext() {
    {
      std::lock_guard lock(shared_->mutex);
      if (shared_->stopping) {
        return;  // still `running` in the store; the next start resumes it
      }
    }
    if (Plan().empty()) {
      return Finish();
    }

    const json::object& entry = Plan().front().as_object();
    FetchRequest request;
    request.user_id = StringField(job_, "user_id");
    request.type = StringField(entry, "type");
    DateWindow window;
    if (ParseDate(StringField(entry, "start"), &window.start) &&
        ParseDate(StringField(entry, "end"), &window.end)) {
      request.window = window;
    }
    shared_->fetcher->Fetch(request,
                            [self = shared_from_this()](FetchResult result) {
                              self->OnFetched(std::move(result));
                            });
  }

  void OnFetched(FetchResult result) {
    job_["requests"] = IntField(job_, "requests", 0) + result.requests;
    json::object& entry = Plan().front().as_object();
    switch (result.status) {
      case FetchStatus::kData:
        return Store(std::move(result));
      case FetchStatus::kProcessing:
        return OnProcessing(entry, result.retry_after);
      case FetchStatus::kSplit:
        return OnSplit(entry, result.error);
      case FetchStatus::kFailed:
        break;
    }
    DropWindow("errors", DescribeWindow(entry) + ": " + result.error);
    Persist();
  }

  // A provider still fetching: ask once more after its delay, then leave the
  // window to the webhooks that Terra sends when the data is ready.
  void OnProcessing(json::object& entry, std::chrono::seconds retry_after) {
    if (entry.contains("processing_retried")) {
      DropWindow("notes", DescribeWindow(entry) +
                              ": still processing after one retry; left to "
                              "webhooks");
      return Persist();
    }
    entry["processing_retried"] = true;
    spdlog::info("job {}: {} is processing at Terra, asking again in {} s", id_,
                 DescribeWindow(entry), retry_after.count());
    Commit(WithJob(store::CommitRequest()), [self = shared_from_this(),
                                             retry_after](bool) {
      self->shared_->fetcher->After(retry_after, [self] { self->DoNext(); });
    });
  }

  void OnSplit(json::object& entry, const std::string& why) {
    DateWindow window;
    if (!ParseDate(StringField(entry, "start"), &window.start) ||
        !ParseDate(StringField(entry, "end"), &window.end) ||
        window.days() < 2) {
      DropWindow("errors", DescribeWindow(entry) + ": " + why +
                               " for a window that cannot be split");
      return Persist();
    }
    std::string type = StringField(entry, "type");
    std::vector<DateWindow> halves = SplitInHalves(window);
    spdlog::info("job {}: {} returned {}, splitting it in two", id_,
                 DescribeWindow(entry), why);
    json::array& plan = Plan();
    plan.erase(plan.begin());
    plan.insert(plan.begin(), WindowEntry(type, halves[1]));
    plan.insert(plan.begin(), WindowEntry(type, halves[0]));
    Persist();
  }

  // Applies the response like a webhook and stores it together with the
  // shortened plan, so the window is stored exactly when it leaves the plan.
  void Store(FetchResult result) {
    json::object& entry = Plan().front().as_object();
    std::string type = StringField(entry, "type");
    store::Delivery delivery;
    delivery.received_ms = shared_->NowMs();
    delivery.source =
        IsBackfill() ? store::Source::kBackfill : store::Source::kReconcile;
    delivery.trace_id =
        "rest:" + std::to_string(id_) + ":" + DescribeWindow(entry);
    delivery.signed_at_s = result.requested_ms / 1000;
    delivery.ordering_ms = result.requested_ms;
    delivery.body = WithType(std::move(result.body), type);

    store::AppliedDelivery applied;
    store::Status status =
        shared_->applier->Apply(std::move(delivery), &applied);
    if (!status.ok()) {
      spdlog::error(
          "job {}: cannot apply {}: {}; the job resumes at the next "
          "start",
          id_, DescribeWindow(entry), status.message());
      return shared_->Finished(id_);
    }

    json::object& fetched = job_["fetched"].as_object();
    fetched[type] = IntField(fetched, type, 0) + applied.records;
    Plan().erase(Plan().begin());
    // REST results are never duplicates of a webhook delivery.
    applied.request.dedup_key.clear();
    Commit(WithJob(std::move(applied.request)),
           [self = shared_from_this()](bool) { self->DoNext(); });
  }

  void DropWindow(std::string_view list, std::string text) {
    if (!job_.contains(list)) {
      job_[list] = json::array();
    }
    job_[list].as_array().push_back(json::value(text));
    Plan().erase(Plan().begin());
  }

  void Persist() {
    Commit(WithJob(store::CommitRequest()),
           [self = shared_from_this()](bool) { self->DoNext(); });
  }

  void Finish() {
    const json::array& errors = job_["errors"].as_array();
    bool failed = !errors.empty();
    job_["state"] = failed ? "failed" : "done";
    job_["finished_ms"] = shared_->NowMs();
    if (failed) {
      job_["error"] = std::to_string(errors.size()) +
                      " window(s) failed; first: " +
                      std::string(errors.front().as_string());
    }

    store::CommitRequest request = WithJob(store::CommitRequest());
    std::string checkpoint = StringField(job_, "checkpoint_key");
    if (!failed && !checkpoint.empty()) {
      request.batch.Put(shared_->store->handle(store::Family::kMeta),
                        checkpoint, StringField(job_, "end_date"));
    }
    spdlog::info("job {} {}: {} requests, fetched {}", id_,
                 failed ? "failed" : "done", IntField(job_, "requests", 0),
                 json::serialize(job_["fetched"]));
    Commit(std::move(request), [self = shared_from_this()](bool) {
      self->shared_->Finished(self->id_);
    });
  }

  store::CommitRequest WithJob(store::CommitRequest request) {
    request.batch.Put(shared_->store->handle(store::Family::kJobs), key_,
                      json::serialize(job_));
    return request;
  }

  // Commits, then runs `next` on the io_context; on a store failure the run
  // ends and the job resumes from its last stored plan at the next start.
  void Commit(store::CommitRequest request, std::function<void(bool)> next) {
    shared_->Commit(std::move(request), [self = shared_from_this(),
                                         next = std::move(next)](bool ok) {
      if (!ok) {
        return self->shared_->Finished(self->id_);
      }
      next(ok);
    });
  }

  std::shared_ptr<JobRunner::Shared> shared_;
  uint64_t id_;
  std::string key_;
  json::object job_;
};

}  // namespace

void JobRunner::Shared::Commit(store::CommitRequest request,
                               std::function<void(bool)> done) {
  committer->Submit(std::move(request), [self = shared_from_this(),
                                         done = std::move(done)](
                                            const store::CommitResult& result) {
    bool ok = result.outcome != store::CommitResult::Outcome::kFailed;
    if (!ok) {
      spdlog::error("cannot store job progress: {}", result.status.message());
    }
    asio::post(self->io_context, [done, ok] { done(ok); });
  });
}

void JobRunner::Shared::StartJob(uint64_t id, json::object job) {
  {
    std::lock_guard lock(mutex);
    if (stopping || !running.insert(id).second) {
      return;
    }
  }
  std::make_shared<JobRun>(shared_from_this(), id, std::move(job))->Begin();
}

void JobRunner::Shared::Finished(uint64_t id) {
  std::lock_guard lock(mutex);
  running.erase(id);
}

// Reads jobs from `scan_from`. Keys are sequence numbers handed out before
// the commit, so a job can become visible after a greater key: each scan
// starts at the last sequence seen one scan earlier, which leaves a whole
// interval for such commits to land.
void JobRunner::Shared::Scan() {
  uint64_t last_sequence = store->LastSequence();
  std::unique_ptr<rocksdb::Iterator> iterator =
      store->NewIterator(store::Family::kJobs);
  for (iterator->Seek(store::EncodeSequenceKey(scan_from)); iterator->Valid();
       iterator->Next()) {
    uint64_t id = 0;
    if (!store::DecodeSequenceKey(iterator->key().ToStringView(), &id)) {
      continue;
    }
    boost::system::error_code ec;
    json::value value = json::parse(iterator->value().ToStringView(), ec);
    if (ec || !value.is_object()) {
      spdlog::warn("job {} is not a JSON object; skipped", id);
      continue;
    }
    std::string state = StringField(value.get_object(), "state");
    if (state == "queued" || state == "running") {
      StartJob(id, std::move(value.get_object()));
    }
  }
  scan_from = previous_last_sequence;
  previous_last_sequence = last_sequence;
}

void JobRunner::Shared::ScheduleScan() {
  scan_timer.expires_after(options.scan_interval);
  scan_timer.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) {
        if (ec) {
          return;
        }
        self->Scan();
        self->ScheduleScan();
      });
}

JobRunner::JobRunner(asio::io_context& io_context, store::Store* store,
                     const store::DeliveryApplier* applier,
                     store::Committer* committer, RestFetcher* fetcher,
                     JobRunnerOptions options, Clock clock)
    : shared_(std::make_shared<Shared>(
          io_context, store, applier, committer, fetcher, std::move(options),
          clock ? std::move(clock) : Clock(system_clock::now))) {}

JobRunner::~JobRunner() { Stop(); }

void JobRunner::Start() {
  asio::post(shared_->io_context, [shared = shared_] {
    shared->Scan();
    shared->ScheduleScan();
  });
}

void JobRunner::Stop() {
  std::lock_guard lock(shared_->mutex);
  shared_->stopping = true;
  asio::post(shared_->io_context,
             [shared = shared_] { shared->scan_timer.cancel(); });
}

void JobRunner::Submit(const JobSpec& spec,
                       std::function<void(uint64_t id)> done) {
  json::object job{{"kind", spec.kind},
                   {"state", "queued"},
                   {"connection_id", spec.connection_id},
                   {"user_id", spec.user_id},
                   {"reason", spec.reason},
                   {"created_ms", shared_->NowMs()},
                   {"start_date", FormatDate(spec.range.start)},
                   {"end_date", FormatDate(spec.range.end)}};
  if (!spec.checkpoint_key.empty()) {
    job["checkpoint_key"] = spec.checkpoint_key;
  }
  uint64_t id = shared_->store->NextSequence();
  store::CommitRequest request;
  request.batch.Put(shared_->store->handle(store::Family::kJobs),
                    store::EncodeSequenceKey(id), json::serialize(job));
  shared_->Commit(std::move(request),
                  [shared = shared_, id, job, done = std::move(done)](bool ok) {
                    if (ok) {
                      shared->StartJob(id, job);
                    }
                    done(ok ? id : 0);
                  });
}

size_t JobRunner::running() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->running.size();
}

}  // namespace terra::daemon
