// The REST side of terra-syncd as one unit: the Terra HTTPS client, the
// per-user day budget, the fetcher, the job runner that backfills new
// connections and the reconciler (nightly runs and silence detection). main()
// creates it only when the REST credentials are configured. It stops by itself
// on SIGTERM or SIGINT, so that the io_context can run out of work.

#ifndef TERRA_DAEMON_REST_SERVICE_H_
#define TERRA_DAEMON_REST_SERVICE_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <string>

#include "daemon/day_budget.h"
#include "daemon/job_runner.h"
#include "daemon/reconciler.h"
#include "daemon/rest_config.h"
#include "daemon/rest_fetcher.h"
#include "daemon/terra_client.h"

namespace terra::store {
class Committer;
class DeliveryApplier;
class Store;
}  // namespace terra::store

namespace terra::daemon {

// Thread safety: Create and Start before the io_context runs; Stop from any
// thread.
class RestService {
 public:
  // Builds the components for `config`. Returns false with `error` naming
  // the option when the base URL or the CA file is unusable. `metrics` may
  // be null; otherwise it must outlive the service.
  [[nodiscard]] static bool Create(
      boost::asio::io_context& io_context, const RestConfig& config,
      store::Store* store, const store::DeliveryApplier* applier,
      store::Committer* committer, std::unique_ptr<RestService>* service,
      std::string* error, ServiceMetrics* metrics = nullptr);

  ~RestService();

  // Resumes unfinished jobs, starts watching for new ones and starts the
  // reconciliation timer.
  void Start();

  // Starts no more requests; requests in flight finish or time out.
  void Stop();

  JobRunner& job_runner() { return *job_runner_; }
  Reconciler& reconciler() { return *reconciler_; }

  // The REST side's wall clock (a test may drive it from a file).
  const WallClock& clock() const { return clock_; }

 private:
  explicit RestService(boost::asio::io_context& io_context);

  std::unique_ptr<TerraClient> client_;
  std::unique_ptr<DayBudget> budget_;
  std::unique_ptr<RestFetcher> fetcher_;
  std::unique_ptr<JobRunner> job_runner_;
  std::unique_ptr<Reconciler> reconciler_;
  WallClock clock_;
  boost::asio::signal_set signals_;
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_REST_SERVICE_H_
