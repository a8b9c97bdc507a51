// The metrics that terra-syncd exposes on /metrics, created once at start and
// shared by the components that count.

#ifndef TERRA_DAEMON_SERVICE_METRICS_H_
#define TERRA_DAEMON_SERVICE_METRICS_H_

#include "daemon/metrics.h"

namespace terra::daemon {

// Thread safety: the families are thread-safe; the struct is built before
// any thread uses it and never changes afterwards.
struct ServiceMetrics {
  ServiceMetrics();

  MetricsRegistry registry;

  CounterFamily* deliveries;          // {outcome, event_type}
  CounterFamily* signature_failures;  // {reason}
  CounterFamily* duplicates;
  CounterFamily* quarantined;
  CounterFamily* records_written;
  CounterFamily* store_failures;
  CounterFamily* http_rejections;  // {status}
  CounterFamily* payload_fetches;  // {result}: s3_payload URLs fetched
  Histogram* commit_batch_requests;
  Histogram* commit_latency_seconds;
  CounterFamily* rest_requests;         // {status}
  CounterFamily* reconcile_runs;        // {trigger}
  CounterFamily* subscription_changes;  // {change}
  CounterFamily* silence_pulls;         // {kind}
  CounterFamily* deliveries_expired;
  CounterFamily* jobs_expired;
};

// Returns `event_type` if it is one of Terra's documented event types, else
// "other", so that a signed sender cannot grow the number of series.
std::string EventTypeLabel(std::string_view event_type);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_SERVICE_METRICS_H_
