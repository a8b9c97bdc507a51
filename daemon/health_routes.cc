#include "daemon/health_routes.h"

#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <map>

#include "daemon/admin_server.h"
#include "daemon/http_server.h"
#include "daemon/service_metrics.h"
#include "store/committer.h"
#include "store/store.h"

namespace terra::daemon {
namespace {

namespace asio = boost::asio;

constexpr std::string_view kMetaHealthProbe = "health_probe_ms";
constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Responds to a health request once, from whichever of the probe and the
// timer finishes first.
struct ProbeState {
  std::atomic<bool> answered{false};
  std::function<void(AdminResponse)> respond;
  std::unique_ptr<asio::steady_timer> timer;

  void Answer(unsigned status, std::string body) {
    if (answered.exchange(true)) {
      return;
    }
    respond(AdminResponse{status, "text/plain; charset=utf-8", std::move(body)});
  }
};

void HandleHealth(const HealthSources& sources,
                  std::function<void(AdminResponse)> respond) {
  auto probe = std::make_shared<ProbeState>();
  probe->respond = std::move(respond);
  probe->timer = std::make_unique<asio::steady_timer>(*sources.io_context,
                                                      sources.probe_timeout);
  probe->timer->async_wait([probe](const boost::system::error_code& error) {
    if (!error) {
      probe->Answer(503, "unhealthy: the committer did not complete a probe "
                         "write in time\n");
    }
  });

  store::CommitRequest request;  // no dedup key: a probe is never a duplicate
  request.batch
      .Put(sources.store->handle(store::Family::kMeta), kMetaHealthProbe,
           std::to_string(NowMs()))
      .PermitUncheckedError();
  sources.committer->Submit(
      std::move(request), [probe](const store::CommitResult& result) {
        if (result.outcome == store::CommitResult::Outcome::kCommitted) {
          probe->Answer(200, "ok\n");
        } else {
          probe->Answer(503, "unhealthy: the store rejected a probe write: " +
                                 result.status.message() + "\n");
        }
        asio::post(probe->timer->get_executor(), [probe] { probe->timer->cancel(); });
      });
}

// Counts jobs by their "state" field, parsing every job in the family.
// NOTE: each /metrics scrape and each status line (every 10 s) does this.
// Reconciliation adds one job per connection a night, so 10,000 connections
// keep about 300,000 jobs under the default job-retention-days of 30.
// Counts kept by the job runner would avoid the scan.
std::vector<GaugeSample> JobsByState(const store::Store& store) {
  std::map<std::string, double> counts;
  std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(store::Family::kJobs);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    boost::system::error_code error;
    boost::json::value job = boost::json::parse(
        std::string_view(it->value().data(), it->value().size()), error);
    const boost::json::object* object = error ? nullptr : job.if_object();
    const boost::json::value* state =
        object != nullptr ? object->if_contains("state") : nullptr;
    counts[state != nullptr && state->is_string()
               ? std::string(state->as_string())
               : "unknown"] += 1;
  }
  std::vector<GaugeSample> samples;
  for (const auto& [state, count] : counts) {
    samples.push_back({{state}, count});
  }
  return samples;
}

void RegisterGauges(const HealthSources& sources) {
  MetricsRegistry& registry = sources.metrics->registry;
  store::Store* store = sources.store;
  store::Committer* committer = sources.committer;
  HttpServer* server = sources.webhook_server;

  registry.AddGauge("terra_store_size_bytes",
                    "Bytes of the files in the store directory.", {},
                    [store] {
                      return std::vector<GaugeSample>{
                          {{}, static_cast<double>(store->SizeOnDisk())}};
                    });
  registry.AddGauge("terra_jobs", "Backfill and reconcile jobs by state.",
                    {"state"}, [store] { return JobsByState(*store); });
  registry.AddGauge("terra_commit_pending",
                    "Deliveries waiting for the committer.", {}, [committer] {
                      return std::vector<GaugeSample>{
                          {{}, static_cast<double>(committer->pending())}};
                    });
  registry.AddGauge("terra_open_connections",
                    "Open connections on the webhook listener.", {}, [server] {
                      return std::vector<GaugeSample>{
                          {{}, static_cast<double>(server->open_connections())}};
                    });
}

}  // namespace

size_t CountUnfinishedJobs(const store::Store& store) {
  size_t unfinished = 0;
  for (const GaugeSample& sample : JobsByState(store)) {
    const std::string& state = sample.label_values.front();
    if (state != "done" && state != "failed") {
      unfinished += static_cast<size_t>(sample.value);
    }
  }
  return unfinished;
}

void RegisterHealthRoutes(AdminServer* admin, const HealthSources& sources) {
  RegisterGauges(sources);

  admin->AddRoute("GET", "/healthz", AdminAccess::kAll,
                  [sources](const AdminRequest&,
                            std::function<void(AdminResponse)> respond) {
                    HandleHealth(sources, std::move(respond));
                  });

  ServiceMetrics* metrics = sources.metrics;
  admin->AddRoute("GET", "/metrics", AdminAccess::kAll,
                  [metrics](const AdminRequest&,
                            std::function<void(AdminResponse)> respond) {
                    respond(AdminResponse{200, kPrometheusContentType,
                                          metrics->registry.Render()});
                  });
}

}  // namespace terra::daemon
