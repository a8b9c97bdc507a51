#include "daemon/reconciler.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <mutex>
#include <random>
#include <set>

#include "daemon/job_runner.h"
#include "daemon/service_metrics.h"
#include "daemon/subscription_sync.h"
#include "store/connection.h"
#include "store/queries.h"
#include "store/store.h"

namespace terra::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::system_clock;

struct Reconciler::State : std::enable_shared_from_this<Reconciler::State> {
  State(asio::io_context& io_context_in, const ReconcilerSources& sources_in,
        ReconcilerOptions options_in, WallClock clock_in)
      : io_context(io_context_in),
        sources(sources_in),
        options(std::move(options_in)),
        clock(std::move(clock_in)),
        timer(io_context_in),
        monitor(options.silence, clock()),
        random(std::random_device{}()) {}

  void ScheduleNext(system_clock::time_point now);
  void DoWait();
  void OnTick(boost::system::error_code ec);
  void Run(std::string trigger, std::function<void(ReconcileRun)> done);
  void QueueJobs(const std::string& trigger,
                 std::function<void(ReconcileRun)> done);
  void CheckSilence(system_clock::time_point now);
  void Submit(const JobSpec& spec, std::function<void(uint64_t)> done);

  asio::io_context& io_context;
  const ReconcilerSources sources;
  const ReconcilerOptions options;
  const WallClock clock;
  asio::steady_timer timer;
  SilenceMonitor monitor;

  std::mutex mutex;
  std::mt19937 random;
  bool running = false;
  bool stopped = false;
  system_clock::time_point next_fire;
};

namespace {

// "YYYY-MM-DD HH:MM:SS UTC", for logs.
std::string FormatTime(system_clock::time_point time) {
  auto day = std::chrono::floor<std::chrono::days>(time);
  std::chrono::hh_mm_ss clock(
      std::chrono::floor<std::chrono::seconds>(time - day));
  char text[32];
  std::snprintf(text, sizeof(text), "%s %02d:%02d:%02d UTC",
                FormatDate(day).c_str(),
                static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

// Returns the user id under which Terra now lists the connection: the new id of
// its latest `user_reauth`, else the connection id (its first user id).
std::string CurrentUserId(std::string_view connection_id,
                          const store::Connection& connection) {
  static constexpr std::string_view kNewUserId = "new user id ";
  std::string user_id(connection_id);
  for (const store::ConnectionEvent& event : connection.history) {
    size_t at = event.detail.find(kNewUserId);
    if (event.event == "user_reauth" && at != std::string::npos) {
      user_id = event.detail.substr(at + kNewUserId.size());
    }
  }
  return user_id;
}

// Reads every connection, with its checkpoint when `checkpoints` is true.
std::vector<ReconcileCandidate> LoadCandidates(const store::Store& store,
                                               bool checkpoints) {
  std::vector<ReconcileCandidate> candidates;
  store::Status status = store::ForEachConnection(
      store, [&](std::string_view id, const store::Connection& connection) {
        ReconcileCandidate candidate{
            std::string(id), CurrentUserId(id, connection),
            std::string(connection.Field(store::kFieldState)), std::nullopt};
        std::string value;
        std::chrono::sys_days day;
        if (checkpoints &&
            store.Get(store::Family::kMeta, ReconcileCheckpointKey(id), &value)
                .ok() &&
            ParseDate(value, &day)) {
          candidate.checkpoint = day;
        }
        candidates.push_back(std::move(candidate));
        return true;
      });
  if (!status.ok()) {
    spdlog::error("reconciliation cannot read connections: {}",
                  status.message());
  }
  return candidates;
}

// Returns the connections with a queued or running job, which a new job
// would only duplicate.
std::set<std::string> BusyConnections(const store::Store& store) {
  std::set<std::string> busy;
  store::Status status =
      store::ForEachJob(store, [&busy](uint64_t, std::string_view text) {
        if (text.find("\"queued\"") == std::string_view::npos &&
            text.find("\"running\"") == std::string_view::npos) {
          return true;  // most jobs are finished; skip parsing them
        }
        boost::system::error_code ec;
        json::value job = json::parse(text, ec);
        const json::object* object = ec ? nullptr : job.if_object();
        if (object == nullptr) {
          return true;
        }
        const json::value* state = object->if_contains("state");
        const json::value* id = object->if_contains("connection_id");
        if (state != nullptr && state->is_string() &&
            (state->get_string() == "queued" ||
             state->get_string() == "running") &&
            id != nullptr && id->is_string()) {
          busy.insert(std::string(id->get_string()));
        }
        return true;
      });
  if (!status.ok()) {
    spdlog::error("reconciliation cannot read jobs: {}", status.message());
  }
  return busy;
}

}  // namespace

void Reconciler::State::ScheduleNext(system_clock::time_point now) {
  std::chrono::seconds jitter{0};
  {
    std::lock_guard lock(mutex);
    std::uniform_int_distribution<int64_t> spread(0, options.jitter.count());
    jitter = std::chrono::seconds(spread(random));
    next_fire = NextFireTime(now, options.at, options.zone) + jitter;
  }
  spdlog::info("next reconciliation at {}", FormatTime(next_fire));
}

void Reconciler::State::DoWait() {
  auto wait = next_fire - clock();
  if (wait > options.tick) {
    wait = options.tick;
  }
  timer.expires_after(std::max(wait, system_clock::duration::zero()));
  timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->OnTick(ec);
  });
}

void Reconciler::State::OnTick(boost::system::error_code ec) {
  if (ec == asio::error::operation_aborted) {
    return;  // Stop cancelled the timer
  }
  {
    std::lock_guard lock(mutex);
    if (stopped) {
      return;
    }
  }
  system_clock::time_point now = clock();
  CheckSilence(now);
  if (now >= next_fire) {
    ScheduleNext(now);
    Run("nightly", [](ReconcileRun) {});
  }
  DoWait();
}

void Reconciler::State::Run(std::string trigger,
                            std::function<void(ReconcileRun)> done) {
  {
    std::lock_guard lock(mutex);
    if (running) {
      spdlog::warn("reconciliation ({}) not started: another one is running",
                   trigger);
      return done(ReconcileRun{{}, 0, "a reconciliation is already running"});
    }
    running = true;
  }
  if (sources.metrics != nullptr) {
    sources.metrics->reconcile_runs->Add({trigger});
  }
  spdlog::info("reconciliation ({}) starting", trigger);
  if (!options.sync_subscriptions) {
    return QueueJobs(trigger, std::move(done));
  }

  SubscriptionSyncSources sync{sources.client, sources.store, sources.applier,
                               sources.committer};
  SyncSubscriptions(
      sync, [self = shared_from_this(), trigger,
             done = std::move(done)](SubscriptionSummary summary) {
        if (self->sources.metrics != nullptr) {
          self->sources.metrics->subscription_changes->Add({"discovered"},
                                                           summary.discovered);
          self->sources.metrics->subscription_changes->Add({"revoked"},
                                                           summary.revoked);
        }
        if (summary.complete) {
          spdlog::info(
              "subscriptions: {} users listed, {} connections created, "
              "{} revoked",
              summary.users, summary.discovered, summary.revoked);
        } else {
          spdlog::error(
              "subscriptions: listing stopped after {} users: {}; the "
              "reconciliation goes on with the known connections",
              summary.users, summary.error);
        }
        asio::post(self->io_context,
                   [self, trigger, done] { self->QueueJobs(trigger, done); });
      });
}

// Plans the run and submits its jobs; `done` runs once every submit has
// returned.
void Reconciler::State::QueueJobs(const std::string& trigger,
                                  std::function<void(ReconcileRun)> done) {
  std::chrono::sys_days today = options.zone.LocalDay(clock());
  std::vector<ReconcileTask> tasks = PlanReconciliation(
      LoadCandidates(*sources.store, true), today, options.planner);
  std::set<std::string> busy = BusyConnections(*sources.store);

  auto run = std::make_shared<ReconcileRun>();
  std::vector<JobSpec> specs;
  for (const ReconcileTask& task : tasks) {
    if (busy.contains(task.connection_id)) {
      ++run->skipped;
      continue;
    }
    specs.push_back(JobSpec{"reconcile", task.connection_id, task.user_id,
                            task.range, trigger + " reconciliation",
                            ReconcileCheckpointKey(task.connection_id)});
  }

  auto finish = [self = shared_from_this(), run, trigger, today, done] {
    {
      std::lock_guard lock(self->mutex);
      self->running = false;
    }
    spdlog::info(
        "reconciliation ({}) for {} queued {} job(s); {} skipped "
        "because an earlier job is unfinished",
        trigger, FormatDate(today), run->job_ids.size(), run->skipped);
    done(*run);
  };
  if (specs.empty()) {
    return finish();
  }
  auto pending = std::make_shared<std::atomic<size_t>>(specs.size());
  auto ids_mutex = std::make_shared<std::mutex>();
  for (const JobSpec& spec : specs) {
    Submit(spec, [run, pending, ids_mutex, finish](uint64_t id) {
      if (id != 0) {
        std::lock_guard lock(*ids_mutex);
        run->job_ids.push_back(id);
      }
      if (--*pending == 0) {
        finish();
      }
    });
  }
}

void Reconciler::State::Submit(const JobSpec& spec,
                               std::function<void(uint64_t)> done) {
  sources.job_runner->Submit(spec, std::move(done));
}

// Queues one job per silent connection, for the days since it was last
// heard from, today included.
void Reconciler::State::CheckSilence(system_clock::time_point now) {
  std::vector<ReconcileCandidate> candidates =
      LoadCandidates(*sources.store, false);
  std::vector<std::string> active;
  std::map<std::string, std::string> user_ids;
  for (const ReconcileCandidate& candidate : candidates) {
    if (candidate.state == store::kStateActive || candidate.state.empty()) {
      active.push_back(candidate.connection_id);
      user_ids[candidate.connection_id] = candidate.user_id;
    }
  }
  std::vector<SilentPull> pulls = monitor.Check(active, now);
  if (pulls.empty()) {
    return;
  }

  std::set<std::string> busy = BusyConnections(*sources.store);
  std::chrono::sys_days end = options.zone.LocalDay(now) + std::chrono::days(1);
  for (const SilentPull& pull : pulls) {
    std::string what = pull.terra_wide ? "no delivery from Terra at all"
                                       : "no webhook for this connection";
    spdlog::warn(
        "silence: {} since {} (connection {}); pulling the missed "
        "days",
        what, FormatTime(pull.since), pull.connection_id);
    if (sources.metrics != nullptr) {
      sources.metrics->silence_pulls->Add(
          {pull.terra_wide ? "terra" : "connection"});
    }
    if (busy.contains(pull.connection_id)) {
      continue;  // the unfinished job covers the recent days already
    }
    std::chrono::sys_days start =
        std::max(options.zone.LocalDay(pull.since),
                 end - std::chrono::days(kMaxCatchUpDays));
    JobSpec spec{"reconcile",
                 pull.connection_id,
                 user_ids[pull.connection_id],
                 DateWindow{start, end},
                 "silence: " + what,
                 ""};
    Submit(spec, [](uint64_t) {});
  }
}

Reconciler::Reconciler(asio::io_context& io_context,
                       const ReconcilerSources& sources,
                       ReconcilerOptions options, WallClock clock)
    : state_(std::make_shared<State>(io_context, sources, std::move(options),
                                     std::move(clock))) {}

Reconciler::~Reconciler() { Stop(); }

void Reconciler::Start() {
  state_->ScheduleNext(state_->clock());
  asio::post(state_->io_context, [state = state_] { state->DoWait(); });
}

void Reconciler::Stop() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
  }
  asio::post(state_->io_context, [state = state_] { state->timer.cancel(); });
}

void Reconciler::RunNow(std::string trigger,
                        std::function<void(ReconcileRun)> done) {
  asio::post(state_->io_context, [state = state_, trigger = std::move(trigger),
                                  done = std::move(done)]() mutable {
    state->Run(std::move(trigger), std::move(done));
  });
}

void Reconciler::NoteDelivery(std::string_view connection_id) {
  state_->monitor.NoteDelivery(connection_id, state_->clock());
}

const SilenceMonitor& Reconciler::silence() const { return state_->monitor; }

}  // namespace terra::daemon
