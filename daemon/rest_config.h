// The REST side of terra-syncd's configuration: where Terra's API is, the
// credentials, what backfill fetches and the request limits. The REST side
// is on only when both credential files are configured.

#ifndef TERRA_DAEMON_REST_CONFIG_H_
#define TERRA_DAEMON_REST_CONFIG_H_

#include <boost/program_options/options_description.hpp>
#include <string>
#include <vector>

#include "daemon/reconcile_schedule.h"

namespace terra::daemon {

struct RestConfig {
  std::string base_url = "https://access.tryterra.co/api/v2";
  std::string dev_id_file;
  std::string api_key_file;
  std::string ca_file;  // extra trusted CAs (PEM), added to the system's

  std::string data_types_text =
      "activity,sleep,daily,body,nutrition,menstruation,athlete";
  bool with_samples = false;
  int max_window_days = 28;

  int connect_timeout_s = 10;
  int read_timeout_s = 60;
  int max_attempts = 5;
  int max_concurrent_requests = 4;
  int days_per_hour = 6000;

  // Nightly reconciliation and silence detection.
  std::string reconcile_at_text = "03:30";
  std::string reconcile_time_zone = "localtime";
  int reconcile_jitter_s = 600;
  int reconcile_look_back_days = 2;
  int reconcile_error_every_nights = 7;
  bool reconcile_subscriptions = true;
  int silence_connection_after_s = 86400;  // 0: off
  int silence_terra_after_s = 21600;       // 0: off

  // Tests only (hidden from --help): a file holding the wall clock's unix
  // seconds, read by the REST side and the retention sweeper in place of the
  // system clock.
  std::string test_clock_file;

  // Filled by FinishRestConfig.
  TimeOfDay reconcile_at;
  TimeZone reconcile_zone;
  bool enabled = false;
  std::string dev_id;
  std::string api_key;
  std::vector<std::string> data_types;
};

// Returns the "Terra REST API" option group, bound to `config`.
boost::program_options::options_description BuildRestOptions(
    RestConfig* config);

// Returns the REST options that tests use and --help does not show, bound
// to `config`.
boost::program_options::options_description BuildHiddenRestOptions(
    RestConfig* config);

// Validates the parsed values and reads the credential files (see
// ReadSecretFile). Returns false with `error` naming the option.
[[nodiscard]] bool FinishRestConfig(bool allow_world_readable,
                                    RestConfig* config, std::string* error);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_REST_CONFIG_H_
