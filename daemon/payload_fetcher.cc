#include "daemon/payload_fetcher.h"

#include <spdlog/spdlog.h>

#include <boost/url/parse.hpp>
#include <chrono>
#include <memory>

#include "daemon/logging.h"
#include "daemon/service_metrics.h"
#include "daemon/terra_client.h"
#include "store/committer.h"
#include "store/delivery_applier.h"

namespace terra::daemon {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

PayloadFetcher::PayloadFetcher(boost::asio::io_context& io_context,
                               const store::DeliveryApplier* applier,
                               store::Committer* committer,
                               ServiceMetrics* metrics,
                               PayloadFetcherOptions options)
    : io_context_(io_context),
      applier_(applier),
      committer_(committer),
      metrics_(metrics),
      options_(std::move(options)) {}

void PayloadFetcher::Fetch(PayloadFetch fetch) {
  if (fetch.expires_in_s != 0 &&
      NowMs() > fetch.received_ms + fetch.expires_in_s * 1000) {
    return Fail(fetch, "the URL expired before the fetch started");
  }

  // The request target is sent exactly as in the URL: re-encoding a
  // pre-signed query could change the bytes its signature covers.
  auto url = boost::urls::parse_absolute_uri(fetch.url);
  if (!url || url->scheme() != "https" || url->encoded_host().empty()) {
    return Fail(fetch, "the URL is not an absolute https URL");
  }
  TerraClientOptions client_options;
  client_options.base_url =
      "https://" + std::string(url->encoded_host_and_port());
  client_options.ca_file = options_.ca_file;
  client_options.max_body_bytes = options_.max_body_bytes;
  client_options.max_idle_connections = 0;
  std::string target(url->encoded_target());

  std::unique_ptr<TerraClient> created;
  std::string error;
  if (!TerraClient::Create(io_context_, client_options, &created, &error)) {
    return Fail(fetch, error);
  }
  std::shared_ptr<TerraClient> client = std::move(created);
  client->GetTarget(target, [this, client, fetch](TerraResponse response) {
    if (response.status != 200) {
      std::string reason =
          response.status == 0
              ? "no response: " + response.error.message()
              : "status " + std::to_string(response.status);
      return Fail(fetch, reason);
    }
    Apply(fetch, std::move(response.body));
  });
}

void PayloadFetcher::Fail(const PayloadFetch& fetch, const std::string& reason) {
  ++failed_;
  if (metrics_ != nullptr) {
    metrics_->payload_fetches->Add({"failed"});
  }
  LogFields fields({{"TRACE_ID", fetch.trace_id}});
  spdlog::error("cannot fetch the payload of s3_payload delivery {}: {}; the "
                "event stays archived for a replay",
                fetch.trace_id, reason);
}

void PayloadFetcher::Apply(const PayloadFetch& fetch, std::string body) {
  store::Delivery delivery;
  delivery.received_ms = NowMs();
  delivery.source = store::Source::kWebhook;
  delivery.trace_id = fetch.trace_id + ":payload";
  delivery.terra_reference = fetch.terra_reference;
  delivery.signed_at_s = fetch.signed_at_s;
  delivery.ordering_ms = fetch.ordering_ms;
  delivery.body = std::move(body);

  auto applied = std::make_shared<store::AppliedDelivery>();
  store::Status status = applier_->Apply(std::move(delivery), applied.get());
  if (!status.ok()) {
    return Fail(fetch, "the store cannot be read: " + status.message());
  }
  committer_->Submit(std::move(applied->request),
                     [this, fetch, applied](const store::CommitResult& result) {
                       if (result.outcome ==
                           store::CommitResult::Outcome::kFailed) {
                         return Fail(fetch, "the store rejected the write: " +
                                                result.status.message());
                       }
                       ++fetched_;
                       if (metrics_ != nullptr) {
                         metrics_->payload_fetches->Add({"applied"});
                       }
                       LogFields fields({{"TRACE_ID", applied->trace_id},
                                         {"EVENT_TYPE", applied->event_type}});
                       spdlog::info("payload of s3_payload delivery {} {}: "
                                    "event {}, {} records",
                                    fetch.trace_id,
                                    result.outcome == store::CommitResult::
                                                          Outcome::kDuplicate
                                        ? "already stored"
                                        : store::OutcomeName(applied->outcome),
                                    applied->event_type, applied->records);
                     });
}

}  // namespace terra::daemon
