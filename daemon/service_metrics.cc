#include "daemon/service_metrics.h"

#include <array>

namespace terra::daemon {
namespace {

// Event types of Terra's webhook reference; anything else is "other".
constexpr std::array<std::string_view, 26> kKnownEventTypes = {
    "auth",           "auth_cancelled",
    "deauth",         "access_revoked",
    "user_reauth",    "connection_error",
    "permission_change", "large_request_processing",
    "large_request_sending", "processing",
    "rate_limit_hit", "google_no_datasource",
    "healthcheck",    "s3_payload",
    "activity",       "sleep",
    "daily",          "body",
    "nutrition",      "menstruation",
    "athlete",        "planned_workout",
    "hormone",        "health_observation",
    "lab_report.completed", "lab_report.failed",
};

}  // namespace

ServiceMetrics::ServiceMetrics() {
  deliveries = registry.AddCounter(
      "terra_deliveries_total",
      "Webhook deliveries stored, by outcome and event type.",
      {"outcome", "event_type"});
  signature_failures = registry.AddCounter(
      "terra_signature_failures_total",
      "Webhook requests rejected with 401, by reason.", {"reason"});
  duplicates = registry.AddCounter(
      "terra_duplicate_deliveries_total",
      "Deliveries answered 200 without change because their trace id was "
      "already stored.");
  quarantined = registry.AddCounter(
      "terra_quarantined_payloads_total",
      "Signed deliveries kept without being applied because they were not "
      "JSON or lacked what routing needs.");
  records_written = registry.AddCounter(
      "terra_records_written_total", "Record copies merged into the store.");
  store_failures = registry.AddCounter(
      "terra_store_failures_total",
      "Deliveries answered 503 because the store could not take the write.");
  http_rejections = registry.AddCounter(
      "terra_http_rejections_total",
      "Webhook requests rejected before the signature check, by status.",
      {"status"});
  payload_fetches = registry.AddCounter(
      "terra_payload_fetches_total",
      "Payloads of s3_payload events fetched, by result (applied, failed).",
      {"result"});
  commit_batch_requests = registry.AddHistogram(
      "terra_commit_batch_requests",
      "Deliveries written per group commit.",
      {1, 2, 4, 8, 16, 32, 64, 128, 256});
  commit_latency_seconds = registry.AddHistogram(
      "terra_commit_latency_seconds",
      "Time to write and sync one group commit.",
      {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  deliveries_expired = registry.AddCounter(
      "terra_deliveries_expired_total",
      "Archived deliveries deleted after the retention time.");
  jobs_expired = registry.AddCounter(
      "terra_jobs_expired_total",
      "Finished backfill and reconcile jobs deleted after the retention "
      "time.");
  rest_requests = registry.AddCounter(
      "terra_rest_requests_total",
      "Requests to Terra's REST API, by HTTP status (\"error\" when no "
      "response arrived).",
      {"status"});
  reconcile_runs = registry.AddCounter(
      "terra_reconcile_runs_total",
      "Reconciliation runs started, by trigger (nightly, operator).",
      {"trigger"});
  subscription_changes = registry.AddCounter(
      "terra_subscription_changes_total",
      "Connections changed after listing Terra's users: discovered (created "
      "and backfilled) or revoked.",
      {"change"});
  silence_pulls = registry.AddCounter(
      "terra_silence_pulls_total",
      "Connections pulled over REST because webhooks stopped, by kind "
      "(connection: this connection was silent; terra: no delivery at all).",
      {"kind"});
}

std::string EventTypeLabel(std::string_view event_type) {
  for (std::string_view known : kKnownEventTypes) {
    if (known == event_type) {
      return std::string(known);
    }
  }
  return "other";
}

}  // namespace terra::daemon
