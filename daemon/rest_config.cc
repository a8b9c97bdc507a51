#include "daemon/rest_config.h"

#include <algorithm>
#include <array>
#include <boost/program_options.hpp>
#include <sstream>
#include <string_view>

#include "daemon/config.h"

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

}  // namespace

po::options_description BuildRestOptions(RestConfig* config) {
  po::options_description rest("Terra REST API (backfill)");
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
      "PEM file of CA certificates trusted in addition to the system's")(
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
      "days of data one Terra user may request per rolling hour");
  return rest;
}

bool FinishRestConfig(bool allow_world_readable, RestConfig* config,
                      std::string* error) {
  if (!SplitTypes(config->data_types_text, &config->data_types, error) ||
      !CheckRanges(*config, error)) {
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
