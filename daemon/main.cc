// terra-syncd: receives signed Terra webhooks and stores them durably in an
// embedded RocksDB store.

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

#include "daemon/admin_server.h"
#include "daemon/config.h"
#include "daemon/control_routes.h"
#include "daemon/health_routes.h"
#include "daemon/http_server.h"
#include "daemon/logging.h"
#include "daemon/payload_fetcher.h"
#include "daemon/rest_service.h"
#include "daemon/retention_sweeper.h"
#include "daemon/service_metrics.h"
#include "daemon/service_monitor.h"
#include "daemon/systemd.h"
#include "daemon/test_clock.h"
#include "daemon/webhook_handler.h"
#include "store/committer.h"
#include "store/delivery_applier.h"
#include "store/store.h"

namespace {

namespace asio = boost::asio;
namespace systemd = terra::daemon::systemd;
using terra::daemon::Config;

// Exit codes, documented in the README.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitStore = 3;
constexpr int kExitListen = 4;

// How long SIGTERM waits for requests in progress before exiting anyway;
// below systemd's default stop timeout of 90 s.
constexpr auto kDrainTimeout = std::chrono::seconds(20);
constexpr auto kDrainPoll = std::chrono::milliseconds(50);

// Time between two retention sweeps, normally and under a test clock.
constexpr auto kRetentionInterval = std::chrono::hours(1);
constexpr auto kTestRetentionInterval = std::chrono::seconds(1);

using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

// Everything that runs, in construction order; destroyed in reverse.
struct Daemon {
  Config config;
  std::vector<std::string> argv;  // kept for configuration reloads
  std::unique_ptr<terra::store::Store> store;
  terra::daemon::ServiceMetrics metrics;
  std::unique_ptr<terra::store::Committer> committer;
  std::unique_ptr<terra::store::DeliveryApplier> applier;
  std::unique_ptr<terra::daemon::RetentionSweeper> retention;
  std::unique_ptr<terra::daemon::WebhookHandler> handler;
  std::unique_ptr<asio::io_context> io_context;
  std::shared_ptr<WorkGuard> work;
  std::unique_ptr<terra::daemon::HttpServer> webhook_server;
  std::unique_ptr<terra::daemon::AdminServer> admin_server;
  std::unique_ptr<terra::daemon::ServiceMonitor> monitor;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<terra::daemon::RestService> rest;  // null when REST is off
  std::unique_ptr<terra::daemon::PayloadFetcher> payload_fetcher;
};

bool OpenStore(Daemon* daemon) {
  terra::store::StoreOptions options;
  options.path = daemon->config.store_path;
  options.block_cache_bytes = daemon->config.block_cache_bytes;
  options.write_buffer_bytes = daemon->config.write_buffer_bytes;

  terra::store::Status status = terra::store::Store::Open(options, &daemon->store);
  if (!status.ok()) {
    spdlog::critical("cannot open store: {}", status.message());
    return false;
  }
  spdlog::info("store {} open, format version {}, last sequence {}",
               daemon->config.store_path, daemon->store->format_version(),
               daemon->store->LastSequence());
  return true;
}

// Starts deleting archived deliveries older than the configured retention.
// Under a test clock it sweeps every second instead of every hour.
void StartRetention(Daemon* daemon) {
  int days = daemon->config.delivery_retention_days;
  const std::string& clock_file = daemon->config.rest.test_clock_file;
  daemon->retention = std::make_unique<terra::daemon::RetentionSweeper>(
      daemon->store.get(), days, daemon->config.job_retention_days,
      &daemon->metrics, terra::daemon::MakeWallClock(clock_file));
  daemon->retention->Start(clock_file.empty() ? kRetentionInterval
                                              : kTestRetentionInterval);
  if (days > 0) {
    spdlog::info("archived deliveries are kept for {} day(s)", days);
  } else {
    spdlog::info("archived deliveries are kept forever "
                 "(delivery-retention-days 0)");
  }
}

void LogConfiguration(const Config& config) {
  spdlog::info("terra-syncd {} starting{}{}", TERRA_SYNC_VERSION,
               config.config_file.empty() ? "" : " with ", config.config_file);
  spdlog::info("{} signing secret(s) loaded, signature tolerance {} s, "
               "{} commits",
               config.signing_secrets.size(), config.signature_tolerance_s,
               config.sync_writes ? "synced" : "unsynced (power loss can lose "
                                               "the last acknowledged deliveries)");
}

// Builds the request path: committer, applier and webhook handler.
void BuildPipeline(Daemon* daemon) {
  terra::daemon::ServiceMetrics* metrics = &daemon->metrics;
  terra::store::CommitterOptions committer_options;
  committer_options.sync = daemon->config.sync_writes;
  committer_options.test_delay = daemon->config.test_commit_delay;
  committer_options.test_hold_key = daemon->config.test_hold_trace_id;
  committer_options.on_group = [metrics](const terra::store::GroupReport& report) {
    metrics->commit_batch_requests->Observe(static_cast<double>(report.requests));
    metrics->commit_latency_seconds->Observe(
        std::chrono::duration<double>(report.latency).count());
  };
  daemon->committer = std::make_unique<terra::store::Committer>(
      daemon->store.get(), committer_options);

  daemon->applier = std::make_unique<terra::store::DeliveryApplier>(
      daemon->store.get(),
      terra::store::ApplierOptions{.json_max_depth = daemon->config.json_max_depth,
                                   .backfill_days = daemon->config.backfill_days});
  daemon->handler = std::make_unique<terra::daemon::WebhookHandler>(
      terra::daemon::WebhookHandlerOptions{
          .secrets = daemon->config.signing_secrets,
          .tolerance_s = daemon->config.signature_tolerance_s},
      daemon->applier.get(), daemon->committer.get(),
      terra::daemon::WebhookHandler::Clock{}, metrics);
}

std::string FormatEndpoint(const terra::daemon::Endpoint& endpoint) {
  std::string address = endpoint.address.find(':') == std::string::npos
                            ? endpoint.address
                            : "[" + endpoint.address + "]";
  return address + ":" + std::to_string(endpoint.port);
}

// Serves the webhook listener on the socket systemd passed, or binds the
// configured address.
bool StartWebhookListener(Daemon* daemon,
                          const std::map<std::string, int>& passed) {
  std::string error;
  auto found = passed.find("webhook");
  if (found != passed.end()) {
    if (!daemon->webhook_server->Adopt(found->second, &error)) {
      spdlog::critical("{}", error);
      return false;
    }
  } else if (!daemon->webhook_server->Listen(daemon->config.listen, &error)) {
    spdlog::critical("{}", error);
    return false;
  }
  spdlog::info("listening for webhooks on {} path {}{}",
               FormatEndpoint(daemon->webhook_server->local_endpoint()),
               daemon->config.webhook_path,
               found != passed.end() ? " (socket from systemd)" : "");
  return true;
}

// Serves health, metrics and control on the admin socket from systemd, or on
// the configured TCP address and Unix socket.
bool StartAdminListener(Daemon* daemon, const std::map<std::string, int>& passed) {
  const Config& config = daemon->config;
  std::string error;
  auto found = passed.find("admin");
  bool ok = true;
  if (found != passed.end()) {
    ok = systemd::IsUnixSocket(found->second)
             ? daemon->admin_server->AdoptUnix(found->second, &error)
             : daemon->admin_server->AdoptTcp(found->second, &error);
    if (ok) {
      spdlog::info("admin requests on the socket from systemd");
    }
  } else {
    if (config.admin_listen_enabled) {
      ok = daemon->admin_server->ListenTcp(config.admin_listen, &error);
      if (ok) {
        spdlog::info("admin listener (health, metrics) on {}",
                     FormatEndpoint(daemon->admin_server->tcp_endpoint()));
      }
    }
    if (ok && !config.admin_socket.empty()) {
      ok = daemon->admin_server->ListenUnix(config.admin_socket, 0660, &error);
      if (ok) {
        spdlog::info("admin socket on {}", config.admin_socket);
      }
    }
  }
  if (!ok) {
    spdlog::critical("{}", error);
  }
  return ok;
}

bool StartListeners(Daemon* daemon) {
  daemon->io_context = std::make_unique<asio::io_context>(daemon->config.io_threads);
  daemon->work = std::make_shared<WorkGuard>(daemon->io_context->get_executor());
  daemon->webhook_server = std::make_unique<terra::daemon::HttpServer>(
      *daemon->io_context, daemon->config.webhook_path, daemon->config.limits,
      daemon->handler.get(), &daemon->metrics);
  daemon->admin_server =
      std::make_unique<terra::daemon::AdminServer>(*daemon->io_context);
  terra::daemon::RegisterHealthRoutes(
      daemon->admin_server.get(),
      terra::daemon::HealthSources{daemon->io_context.get(), daemon->store.get(),
                                   daemon->committer.get(),
                                   daemon->webhook_server.get(), &daemon->metrics});

  daemon->payload_fetcher = std::make_unique<terra::daemon::PayloadFetcher>(
      *daemon->io_context, daemon->applier.get(), daemon->committer.get(),
      &daemon->metrics,
      terra::daemon::PayloadFetcherOptions{.ca_file = daemon->config.rest.ca_file});
  daemon->handler->SetPayloadFetcher(daemon->payload_fetcher.get());

  std::map<std::string, int> passed = systemd::TakeListenSockets();
  return StartWebhookListener(daemon, passed) && StartAdminListener(daemon, passed);
}

// Re-reads the configuration and applies what can change while running:
// secrets, signature tolerance, listener limits, the log level and the
// retention times. Anything else needs a restart, and the daemon logs a
// warning that names it.
void Reload(Daemon* daemon) {
  systemd::NotifyReloading();
  std::vector<const char*> argv;
  for (const std::string& arg : daemon->argv) {
    argv.push_back(arg.c_str());
  }
  Config fresh;
  std::string error;
  auto outcome = terra::daemon::ParseCommandLine(static_cast<int>(argv.size()),
                                                 argv.data(), &fresh, &error);
  if (outcome != terra::daemon::ParseOutcome::kRun ||
      !terra::daemon::SetLogLevel(fresh.log_level)) {
    spdlog::error("configuration reload rejected, keeping the running "
                  "configuration: {}",
                  error.empty() ? "invalid --log-level " + fresh.log_level : error);
    systemd::NotifyReady("reload rejected; running configuration unchanged");
    return;
  }

  daemon->handler->UpdateOptions({.secrets = fresh.signing_secrets,
                                  .tolerance_s = fresh.signature_tolerance_s});
  daemon->webhook_server->UpdateLimits(fresh.limits);
  const Config& old = daemon->config;
  if (fresh.listen.address != old.listen.address ||
      fresh.listen.port != old.listen.port || fresh.store_path != old.store_path ||
      fresh.sync_writes != old.sync_writes || fresh.io_threads != old.io_threads ||
      fresh.webhook_path != old.webhook_path) {
    spdlog::warn("listen address, webhook path, store, sync-writes and "
                 "io-threads change only at restart; the running values stay");
  }
  daemon->retention->SetRetentionDays(fresh.delivery_retention_days);
  daemon->retention->SetJobRetentionDays(fresh.job_retention_days);
  daemon->config.delivery_retention_days = fresh.delivery_retention_days;
  daemon->config.job_retention_days = fresh.job_retention_days;
  daemon->config.signing_secrets = fresh.signing_secrets;
  daemon->config.signature_tolerance_s = fresh.signature_tolerance_s;
  daemon->config.limits = fresh.limits;
  daemon->config.log_level = fresh.log_level;
  spdlog::info("configuration reloaded: {} signing secret(s), log level {}, "
               "retention {} day(s) for deliveries and {} for jobs (0 keeps "
               "all)",
               fresh.signing_secrets.size(), fresh.log_level,
               fresh.delivery_retention_days, fresh.job_retention_days);
  systemd::NotifyReady("configuration reloaded");
}

// Waits until no webhook connection is open or kDrainTimeout passed, then
// stops the io threads.
void DrainThenStop(Daemon* daemon, std::chrono::steady_clock::time_point deadline) {
  size_t open = daemon->webhook_server->open_connections();
  if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (open > 0) {
      spdlog::warn("stopping with {} connection(s) still open after {} s", open,
                   kDrainTimeout.count());
    }
    daemon->work->reset();
    daemon->io_context->stop();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(*daemon->io_context, kDrainPoll);
  timer->async_wait([daemon, deadline, timer](auto) { DrainThenStop(daemon, deadline); });
}

// SIGHUP reloads; SIGTERM and SIGINT stop accepting, finish requests in
// progress, then stop.
void HandleSignals(Daemon* daemon) {
  daemon->signals->async_wait([daemon](const boost::system::error_code& error,
                                       int number) {
    if (error) {
      return;
    }
    if (number == SIGHUP) {
      spdlog::info("SIGHUP received: reloading the configuration");
      Reload(daemon);
      return HandleSignals(daemon);
    }
    spdlog::info("{} received: finishing requests in progress",
                 number == SIGTERM ? "SIGTERM" : "SIGINT");
    systemd::NotifyStopping();
    daemon->monitor->Stop();
    daemon->admin_server->BeginShutdown();
    daemon->webhook_server->BeginShutdown();
    DrainThenStop(daemon, std::chrono::steady_clock::now() + kDrainTimeout);
  });
}

void StartSignalsAndMonitor(Daemon* daemon) {
  daemon->signals = std::make_unique<asio::signal_set>(*daemon->io_context, SIGTERM,
                                                       SIGINT, SIGHUP);
  HandleSignals(daemon);

  terra::store::Store* store = daemon->store.get();
  daemon->monitor = std::make_unique<terra::daemon::ServiceMonitor>(
      *daemon->io_context, daemon->committer.get(), &daemon->handler->counters(),
      systemd::WatchdogPingInterval(), [store] { return terra::daemon::CountUnfinishedJobs(*store); });
  daemon->monitor->Start();
}

void RunIoThreads(asio::io_context& io_context, int count) {
  std::vector<std::thread> threads;
  for (int i = 1; i < count; ++i) {
    threads.emplace_back([&io_context] { io_context.run(); });
  }
  io_context.run();
  for (std::thread& thread : threads) {
    thread.join();
  }
}

// Starts backfill over Terra's REST API when its credentials are configured.
bool StartRest(Daemon* daemon) {
  const terra::daemon::RestConfig& rest = daemon->config.rest;
  if (!rest.enabled) {
    terra::daemon::RegisterControlRoutes(daemon->admin_server.get(),
                                         daemon->store.get(), nullptr);
    spdlog::info("REST backfill off: set terra-dev-id-file and "
                 "terra-api-key-file to turn it on");
    return true;
  }
  std::string error;
  if (!terra::daemon::RestService::Create(
          *daemon->io_context, rest, daemon->store.get(), daemon->applier.get(),
          daemon->committer.get(), &daemon->rest, &error, &daemon->metrics)) {
    spdlog::critical("{}", error);
    return false;
  }
  // Routes and the observer are set before the io threads run, so before
  // any request arrives.
  terra::daemon::RegisterControlRoutes(daemon->admin_server.get(),
                                       daemon->store.get(), daemon->rest.get());
  terra::daemon::Reconciler* reconciler = &daemon->rest->reconciler();
  daemon->handler->SetDeliveryObserver(
      [reconciler](std::string_view connection_id) {
        reconciler->NoteDelivery(connection_id);
      });
  daemon->rest->Start();
  spdlog::info("REST backfill on: {} for {}", rest.base_url,
               rest.data_types_text);
  return true;
}

void Shutdown(Daemon* daemon) {
  if (daemon->retention) {
    daemon->retention->Stop();
  }
  daemon->committer->Stop();
  terra::store::CommitterStats stats = daemon->committer->stats();
  spdlog::info("terra-syncd stopped: {} committed, {} duplicates", stats.committed,
               stats.duplicates);
}

}  // namespace

int main(int argc, char** argv) {
  Daemon daemon;
  daemon.argv.assign(argv, argv + argc);
  std::string error;
  switch (terra::daemon::ParseCommandLine(argc, argv, &daemon.config, &error)) {
    case terra::daemon::ParseOutcome::kExitOk:
      return kExitOk;
    case terra::daemon::ParseOutcome::kExitUsage:
      std::cerr << "terra-syncd: " << error << "\n";
      return kExitUsage;
    case terra::daemon::ParseOutcome::kRun:
      break;
  }
  if (!terra::daemon::SetUpLogging(daemon.config.log_level)) {
    std::cerr << "terra-syncd: invalid --log-level '" << daemon.config.log_level
              << "': use trace, debug, info, warn, error or critical\n";
    return kExitUsage;
  }
  LogConfiguration(daemon.config);

  if (!OpenStore(&daemon)) {
    return kExitStore;
  }
  BuildPipeline(&daemon);
  if (!StartListeners(&daemon)) {
    Shutdown(&daemon);
    return kExitListen;
  }
  if (!StartRest(&daemon)) {
    Shutdown(&daemon);
    return kExitUsage;
  }
  StartSignalsAndMonitor(&daemon);
  StartRetention(&daemon);

  systemd::NotifyReady("accepting webhooks");
  RunIoThreads(*daemon.io_context, daemon.config.io_threads);

  Shutdown(&daemon);
  return kExitOk;
}
