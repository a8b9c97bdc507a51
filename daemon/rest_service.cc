#include "daemon/rest_service.h"

#include <spdlog/spdlog.h>

#include <csignal>

#include "daemon/service_metrics.h"

namespace terra::daemon {
namespace {

// How often the reconciler reads a test clock file; a real clock is read
// every ReconcilerOptions::tick.
constexpr std::chrono::milliseconds kTestClockTick{100};

ReconcilerOptions BuildReconcilerOptions(const RestConfig& config) {
  ReconcilerOptions options;
  options.at = config.reconcile_at;
  options.zone = config.reconcile_zone;
  options.jitter = std::chrono::seconds(config.reconcile_jitter_s);
  options.planner.look_back_days = config.reconcile_look_back_days;
  options.planner.error_every_nights = config.reconcile_error_every_nights;
  options.sync_subscriptions = config.reconcile_subscriptions;
  options.silence.connection_after =
      std::chrono::seconds(config.silence_connection_after_s);
  options.silence.terra_after =
      std::chrono::seconds(config.silence_terra_after_s);
  if (!config.test_clock_file.empty()) {
    options.tick = kTestClockTick;
  }
  return options;
}

void AddSilenceGauges(const Reconciler* reconciler, WallClock clock,
                      ServiceMetrics* metrics) {
  metrics->registry.AddGauge(
      "terra_silent_connections",
      "Active connections without a webhook for longer than "
      "silence-connection-after.",
      {}, [reconciler] {
        return std::vector<GaugeSample>{
            {{},
             static_cast<double>(reconciler->silence().silent_connections())}};
      });
  metrics->registry.AddGauge(
      "terra_seconds_since_last_delivery",
      "Seconds since the last webhook delivery of any kind (counted from the "
      "start when none arrived since).",
      {}, [reconciler, clock] {
        auto age = clock() - reconciler->silence().last_delivery();
        return std::vector<GaugeSample>{
            {{}, std::chrono::duration<double>(age).count()}};
      });
}

}  // namespace

RestService::RestService(boost::asio::io_context& io_context)
    : signals_(io_context, SIGTERM, SIGINT) {}

RestService::~RestService() { Stop(); }

bool RestService::Create(boost::asio::io_context& io_context,
                         const RestConfig& config, store::Store* store,
                         const store::DeliveryApplier* applier,
                         store::Committer* committer,
                         std::unique_ptr<RestService>* service,
                         std::string* error, ServiceMetrics* metrics) {
  std::unique_ptr<RestService> created(new RestService(io_context));
  created->clock_ = MakeWallClock(config.test_clock_file);

  TerraClientOptions client_options;
  client_options.base_url = config.base_url;
  client_options.dev_id = config.dev_id;
  client_options.api_key = config.api_key;
  client_options.ca_file = config.ca_file;
  client_options.connect_timeout =
      std::chrono::seconds(config.connect_timeout_s);
  client_options.read_timeout = std::chrono::seconds(config.read_timeout_s);
  if (!TerraClient::Create(io_context, client_options, &created->client_,
                           error)) {
    return false;
  }

  created->budget_ = std::make_unique<DayBudget>(
      DayBudgetOptions{.days_per_window = config.days_per_hour});
  FetcherOptions fetcher_options;
  fetcher_options.max_attempts = config.max_attempts;
  fetcher_options.max_concurrent_requests =
      static_cast<size_t>(config.max_concurrent_requests);
  fetcher_options.with_samples = config.with_samples;
  if (metrics != nullptr) {
    fetcher_options.requests_by_status = metrics->rest_requests;
  }
  created->fetcher_ =
      std::make_unique<RestFetcher>(io_context, created->client_.get(),
                                    created->budget_.get(), fetcher_options);

  JobRunnerOptions runner_options;
  runner_options.data_types = config.data_types;
  runner_options.max_window_days = config.max_window_days;
  created->job_runner_ = std::make_unique<JobRunner>(
      io_context, store, applier, committer, created->fetcher_.get(),
      runner_options, created->clock_);

  created->reconciler_ = std::make_unique<Reconciler>(
      io_context,
      ReconcilerSources{store, applier, committer, created->client_.get(),
                        created->job_runner_.get(), metrics},
      BuildReconcilerOptions(config), created->clock_);
  if (metrics != nullptr) {
    AddSilenceGauges(created->reconciler_.get(), created->clock_, metrics);
  }
  *service = std::move(created);
  return true;
}

void RestService::Start() {
  job_runner_->Start();
  reconciler_->Start();
  signals_.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) {
      Stop();
    }
  });
}

void RestService::Stop() {
  reconciler_->Stop();
  job_runner_->Stop();
  fetcher_->Stop();
  boost::system::error_code ignored;
  signals_.cancel(ignored);
}

}  // namespace terra::daemon
