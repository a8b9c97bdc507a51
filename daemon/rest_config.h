// The REST side of terra-syncd's configuration: where Terra's API is, the
// credentials, what backfill fetches and the request limits. The REST side
// is on only when both credential files are configured.

#ifndef TERRA_DAEMON_REST_CONFIG_H_
#define TERRA_DAEMON_REST_CONFIG_H_

#include <boost/program_options/options_description.hpp>
#include <string>
#include <vector>

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

  // Filled by FinishRestConfig.
  bool enabled = false;
  std::string dev_id;
  std::string api_key;
  std::vector<std::string> data_types;
};

// Returns the "Terra REST API" option group, bound to `config`.
boost::program_options::options_description BuildRestOptions(
    RestConfig* config);

// Validates the parsed values and reads the credential files (see
// ReadSecretFile). Returns false with `error` naming the option.
[[nodiscard]] bool FinishRestConfig(bool allow_world_readable,
                                    RestConfig* config, std::string* error);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_REST_CONFIG_H_
