// The admin routes every terra-syncd serves: GET /healthz and GET /metrics.

#ifndef TERRA_DAEMON_HEALTH_ROUTES_H_
#define TERRA_DAEMON_HEALTH_ROUTES_H_

#include <chrono>
#include <cstddef>

namespace boost::asio {
class io_context;
}

namespace terra::store {
class Committer;
class Store;
}  // namespace terra::store

namespace terra::daemon {

class AdminServer;
class HttpServer;
struct ServiceMetrics;

// Sources that the health and metrics routes read. Everything must outlive
// the admin server.
struct HealthSources {
  boost::asio::io_context* io_context;
  store::Store* store;
  store::Committer* committer;
  HttpServer* webhook_server;
  ServiceMetrics* metrics;

  // How long /healthz waits for its probe write before it responds 503.
  std::chrono::milliseconds probe_timeout{5000};
};

// Registers GET /healthz and GET /metrics on `admin`, plus the gauges that
// /metrics computes when scraped (store size, jobs by state, open
// connections, pending commits).
//
// /healthz writes a small synced probe through the committer, so a 200 means
// that the committer thread is alive and the store accepts writes. Otherwise
// it responds 503 with the reason.
void RegisterHealthRoutes(AdminServer* admin, const HealthSources& sources);

// Counts jobs in the store whose state is neither "done" nor "failed".
size_t CountUnfinishedJobs(const store::Store& store);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_HEALTH_ROUTES_H_
