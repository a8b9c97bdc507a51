#include "daemon/rest_config.h"

#include <algorithm>
#include <array>
#include <boost/program_options.hpp>
#include <filesystem>
#include <sstream>
#include <string_view>

#include "daemon/config.h"
#include "daemon/reconcile_planner.h"

namespace terra::daemon {
namespace {

namespace po = boost::program_options;

// Data types that the REST API serves for a date range, and athlete.
constexpr std::array<std::string_view, 7> kKnownDataTypes = {
    "activity",  "sleep",        "daily",  "body",
    "nutrition", "menstruation", "athlete"};

// Terra rejects a single request over 1,825 days (rule r1), and backfill
// windows stay within one month anyway.
constexpr int kMaxWindowDays = 31;

// A jitter of a whole day or more would move the run to another night.
constexpr int kMaxJitterSeconds = 86399;

constexpr char kLocalTimeFile[] = "/etc/localtime";

bool SplitTypes(const std::string& text, std::vector<std::string>* types,
                std::string* error) {
  types->clear();
  std::stringstream stream(text);
  std::string type;
  while (std::getline(stream, type, ',')) {
    if (type.empty()) {
      continue;
    }
    if (std::find(kKnownDataTypes.begin(), kKnownDataTypes.end(), type) ==
        kKnownDataTypes.end()) {
      *error = "invalid --rest-data-types: unknown type '" + type +
               "'; use activity, sleep, daily, body, nutrition, "
               "menstruation or athlete";
      return false;
    }
    types->push_back(type);
  }
  return true;
}

bool CheckRanges(const RestConfig& config, std::string* error) {
  if (config.max_window_days < 1 || config.max_window_days > kMaxWindowDays) {
    *error = "invalid --backfill-window-days: use 1 to 31";
    return false;
  }
  if (config.connect_timeout_s < 1 || config.read_timeout_s < 1 ||
      config.max_attempts < 1 || config.max_concurrent_requests < 1 ||
      config.days_per_hour < 1) {
    *error =
        "invalid REST limit: --rest-connect-timeout, --rest-read-timeout, "
        "--rest-max-attempts, --rest-max-concurrent and "
        "--rest-days-per-hour must be at least 1";
    return false;
  }
  return true;
}

bool CheckReconcile(RestConfig* config, std::string* error) {
  if (!ParseTimeOfDay(config->reconcile_at_text, &config->reconcile_at)) {
    *error = "invalid --reconcile-at '" + config->reconcile_at_text +
             "': use HH:MM on a 24-hour clock, for example 03:30";
    return false;
  }
  // Without /etc/localtime, the C library uses UTC as local time too.
  std::string zone = config->reconcile_time_zone;
  if (zone == "localtime" && !std::filesystem::exists(kLocalTimeFile)) {
    zone = "UTC";
  }
  if (!TimeZone::Load(zone, &config->reconcile_zone, error)) {
    *error = "invalid --reconcile-time-zone: " + *error;
    return false;
  }
  if (config->reconcile_jitter_s < 0 ||
      config->reconcile_jitter_s > kMaxJitterSeconds) {
    *error = "invalid --reconcile-jitter: use 0 to 86399 seconds";
    return false;
  }
  if (config->reconcile_look_back_days < 1 ||
      config->reconcile_look_back_days > kMaxCatchUpDays ||
      config->reconcile_error_every_nights < 1 ||
      config->reconcile_error_every_nights > kMaxCatchUpDays) {
    *error =
        "invalid --reconcile-look-back-days or --reconcile-error-every-nights: "
        "use 1 to 28";
    return false;
  }
  if (config->silence_connection_after_s < 0 ||
      config->silence_terra_after_s < 0) {
    *error =
        "invalid --silence-connection-after or --silence-terra-after: use 0 "
        "(off) or a positive number of seconds";
    return false;
  }
  return true;
}

}  // namespace

po::options_description BuildRestOptions(RestConfig* config) {
  po::options_description rest("Terra REST API (backfill, reconciliation)");
  rest.add_options()(
      "terra-base-url",
      po::value(&config->base_url)->default_value(config->base_url),
      "https URL of Terra's REST API")(
      "terra-dev-id-file", po::value(&config->dev_id_file),
      "file holding the dev-id; with --terra-api-key-file it turns the REST "
      "side on; %d/NAME reads systemd credential NAME")(
      "terra-api-key-file", po::value(&config->api_key_file),
      "file holding the x-api-key; %d/NAME reads systemd credential NAME")(
      "terra-ca-file", po::value(&config->ca_file),
      "PEM file of CA certificates trusted in addition to the system's, "
      "for the REST API and s3_payload URLs")(
      "rest-data-types",
      po::value(&config->data_types_text)
          ->default_value(config->data_types_text),
      "comma-separated data types that backfill fetches")(
      "rest-with-samples",
      po::value(&config->with_samples)->default_value(config->with_samples),
      "value of with_samples sent with every data request")(
      "backfill-window-days",
      po::value(&config->max_window_days)
          ->default_value(config->max_window_days),
      "longest date window of one request, in days (windows also stay "
      "within one calendar month)")(
      "rest-connect-timeout",
      po::value(&config->connect_timeout_s)
          ->default_value(config->connect_timeout_s),
      "seconds for the TCP connect and, separately, the TLS handshake")(
      "rest-read-timeout",
      po::value(&config->read_timeout_s)->default_value(config->read_timeout_s),
      "seconds for a response header, and for each body read to progress")(
      "rest-max-attempts",
      po::value(&config->max_attempts)->default_value(config->max_attempts),
      "attempts per window after 5xx answers, timeouts or connection "
      "failures")("rest-max-concurrent",
                  po::value(&config->max_concurrent_requests)
                      ->default_value(config->max_concurrent_requests),
                  "REST requests in flight at once, across all users")(
      "rest-days-per-hour",
      po::value(&config->days_per_hour)->default_value(config->days_per_hour),
      "days of data one Terra user may request per rolling hour")(
      "reconcile-at",
      po::value(&config->reconcile_at_text)
          ->default_value(config->reconcile_at_text),
      "local time (HH:MM) of the nightly reconciliation")(
      "reconcile-time-zone",
      po::value(&config->reconcile_time_zone)
          ->default_value(config->reconcile_time_zone),
      "time zone of --reconcile-at: localtime, UTC, an IANA name such as "
      "Europe/London, or a POSIX TZ rule")(
      "reconcile-jitter",
      po::value(&config->reconcile_jitter_s)
          ->default_value(config->reconcile_jitter_s),
      "maximum random delay added to --reconcile-at, in seconds")(
      "reconcile-look-back-days",
      po::value(&config->reconcile_look_back_days)
          ->default_value(config->reconcile_look_back_days),
      "days before the run that each reconciliation pulls again (1: only "
      "the previous day)")(
      "reconcile-error-every-nights",
      po::value(&config->reconcile_error_every_nights)
          ->default_value(config->reconcile_error_every_nights),
      "connections in error are reconciled every Nth night")(
      "reconcile-subscriptions",
      po::value(&config->reconcile_subscriptions)
          ->default_value(config->reconcile_subscriptions),
      "list Terra's users (/subscriptions) at each reconciliation to create "
      "missing connections and revoke inactive ones")(
      "silence-connection-after",
      po::value(&config->silence_connection_after_s)
          ->default_value(config->silence_connection_after_s),
      "seconds without a webhook for an active connection before its missed "
      "days are pulled; 0 turns this off")(
      "silence-terra-after",
      po::value(&config->silence_terra_after_s)
          ->default_value(config->silence_terra_after_s),
      "seconds without any delivery (not even a healthcheck) before the "
      "missed days of every active connection are pulled; 0 turns this off");
  return rest;
}

po::options_description BuildHiddenRestOptions(RestConfig* config) {
  po::options_description hidden;
  hidden.add_options()("test-clock-file", po::value(&config->test_clock_file),
                       "file holding the REST side's clock in unix seconds");
  return hidden;
}

bool FinishRestConfig(bool allow_world_readable, RestConfig* config,
                      std::string* error) {
  if (!SplitTypes(config->data_types_text, &config->data_types, error) ||
      !CheckRanges(*config, error) || !CheckReconcile(config, error)) {
    return false;
  }
  if (config->dev_id_file.empty() != config->api_key_file.empty()) {
    *error =
        "--terra-dev-id-file and --terra-api-key-file go together: give both "
        "to turn on backfill, or neither";
    return false;
  }
  config->enabled = !config->dev_id_file.empty();
  if (!config->enabled) {
    return true;
  }
  return ReadSecretFile(config->dev_id_file, allow_world_readable,
                        &config->dev_id, error) &&
         ReadSecretFile(config->api_key_file, allow_world_readable,
                        &config->api_key, error);
}

}  // namespace terra::daemon
