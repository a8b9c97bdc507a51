#include "daemon/rest_service.h"

#include <spdlog/spdlog.h>

#include <csignal>

namespace terra::daemon {

RestService::RestService(boost::asio::io_context& io_context)
    : signals_(io_context, SIGTERM, SIGINT) {}

RestService::~RestService() { Stop(); }

bool RestService::Create(boost::asio::io_context& io_context,
                         const RestConfig& config, store::Store* store,
                         const store::DeliveryApplier* applier,
                         store::Committer* committer,
                         std::unique_ptr<RestService>* service,
                         std::string* error) {
  std::unique_ptr<RestService> created(new RestService(io_context));

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
  created->fetcher_ =
      std::make_unique<RestFetcher>(io_context, created->client_.get(),
                                    created->budget_.get(), fetcher_options);

  JobRunnerOptions runner_options;
  runner_options.data_types = config.data_types;
  runner_options.max_window_days = config.max_window_days;
  created->job_runner_ =
      std::make_unique<JobRunner>(io_context, store, applier, committer,
                                  created->fetcher_.get(), runner_options);
  *service = std::move(created);
  return true;
}

void RestService::Start() {
  job_runner_->Start();
  signals_.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) {
      Stop();
    }
  });
}

void RestService::Stop() {
  job_runner_->Stop();
  fetcher_->Stop();
  boost::system::error_code ignored;
  signals_.cancel(ignored);
}

}  // namespace terra::daemon
