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

#include "daemon/config.h"
#include "daemon/http_server.h"
#include "daemon/logging.h"
#include "daemon/webhook_handler.h"
#include "store/committer.h"
#include "store/delivery_applier.h"
#include "store/store.h"

namespace {

namespace asio = boost::asio;
using terra::daemon::Config;

// Exit codes, documented in the README.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitStore = 3;
constexpr int kExitListen = 4;

// How long SIGTERM waits for requests in progress before exiting anyway.
constexpr auto kDrainTimeout = std::chrono::seconds(20);
constexpr auto kDrainPoll = std::chrono::milliseconds(50);

bool OpenStore(const Config& config, std::unique_ptr<terra::store::Store>* store) {
  terra::store::StoreOptions options;
  options.path = config.store_path;
  options.block_cache_bytes = config.block_cache_bytes;
  options.write_buffer_bytes = config.write_buffer_bytes;

  terra::store::Status status = terra::store::Store::Open(options, store);
  if (!status.ok()) {
    spdlog::critical("cannot open store: {}", status.message());
    return false;
  }
  spdlog::info("store {} open, format version {}, last sequence {}",
               config.store_path, (*store)->format_version(),
               (*store)->LastSequence());
  return true;
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

bool StartListener(terra::daemon::HttpServer* server, const Config& config) {
  std::string error;
  if (!server->Listen(config.listen, &error)) {
    spdlog::critical("{}", error);
    return false;
  }
  terra::daemon::Endpoint bound = server->local_endpoint();
  std::string address = bound.address.find(':') == std::string::npos
                            ? bound.address
                            : "[" + bound.address + "]";
  spdlog::info("listening for webhooks on {}:{} path {}", address, bound.port,
               config.webhook_path);
  return true;
}

// Waits until no connection is open or kDrainTimeout passed, then lets the
// io threads run out of work.
void DrainThenStop(asio::io_context& io_context,
                   terra::daemon::HttpServer* server,
                   std::shared_ptr<asio::executor_work_guard<
                       asio::io_context::executor_type>> work,
                   std::chrono::steady_clock::time_point deadline) {
  if (server->open_connections() == 0 ||
      std::chrono::steady_clock::now() >= deadline) {
    if (server->open_connections() > 0) {
      spdlog::warn("stopping with {} connection(s) still open after {} s",
                   server->open_connections(), kDrainTimeout.count());
      io_context.stop();
    }
    work->reset();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_context, kDrainPoll);
  timer->async_wait([&io_context, server, work, deadline, timer](auto) {
    DrainThenStop(io_context, server, work, deadline);
  });
}

// SIGTERM and SIGINT stop accepting, finish requests in progress, then stop.
void HandleSignals(asio::signal_set* signals, asio::io_context& io_context,
                   terra::daemon::HttpServer* server,
                   std::shared_ptr<asio::executor_work_guard<
                       asio::io_context::executor_type>> work) {
  signals->async_wait([signals, &io_context, server, work](
                          const boost::system::error_code& error, int number) {
    if (error) {
      return;
    }
    if (number == SIGHUP) {
      // TODO: reload the configuration on SIGHUP; until then it is logged
      // and ignored rather than ending the process.
      spdlog::warn("SIGHUP received: configuration reload is not supported "
                   "yet; restart terra-syncd to apply changes");
      return HandleSignals(signals, io_context, server, work);
    }
    spdlog::info("{} received: finishing requests in progress",
                 number == SIGTERM ? "SIGTERM" : "SIGINT");
    server->BeginShutdown();
    DrainThenStop(io_context, server, work,
                  std::chrono::steady_clock::now() + kDrainTimeout);
  });
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

}  // namespace

int main(int argc, char** argv) {
  Config config;
  std::string error;
  switch (terra::daemon::ParseCommandLine(argc, argv, &config, &error)) {
    case terra::daemon::ParseOutcome::kExitOk:
      return kExitOk;
    case terra::daemon::ParseOutcome::kExitUsage:
      std::cerr << "terra-syncd: " << error << "\n";
      return kExitUsage;
    case terra::daemon::ParseOutcome::kRun:
      break;
  }
  if (!terra::daemon::SetUpLogging(config.log_level)) {
    std::cerr << "terra-syncd: invalid --log-level '" << config.log_level
              << "': use trace, debug, info, warn, error or critical\n";
    return kExitUsage;
  }
  LogConfiguration(config);

  std::unique_ptr<terra::store::Store> store;
  if (!OpenStore(config, &store)) {
    return kExitStore;
  }
  terra::store::Committer committer(store.get(), {.sync = config.sync_writes});
  terra::store::DeliveryApplier applier(
      store.get(), {.json_max_depth = config.json_max_depth,
                    .backfill_days = config.backfill_days});
  terra::daemon::WebhookHandler handler(
      {.secrets = config.signing_secrets,
       .tolerance_s = config.signature_tolerance_s},
      &applier, &committer);

  asio::io_context io_context(config.io_threads);
  auto work = std::make_shared<
      asio::executor_work_guard<asio::io_context::executor_type>>(
      io_context.get_executor());
  terra::daemon::HttpServer server(io_context, config.webhook_path,
                                   config.limits, &handler);
  if (!StartListener(&server, config)) {
    return kExitListen;
  }
  asio::signal_set signals(io_context, SIGTERM, SIGINT, SIGHUP);
  HandleSignals(&signals, io_context, &server, work);

  RunIoThreads(io_context, config.io_threads);

  committer.Stop();
  spdlog::info("terra-syncd stopped: {} committed, {} duplicates",
               committer.stats().committed, committer.stats().duplicates);
  return kExitOk;
}
