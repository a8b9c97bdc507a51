// terra-syncd's configuration: parsed once from the command line and an INI
// file (Boost.ProgramOptions), validated, then passed around read-only.

#ifndef TERRA_DAEMON_CONFIG_H_
#define TERRA_DAEMON_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/rest_config.h"

namespace terra::daemon {

// A host and port to listen on.
struct Endpoint {
  std::string address;  // IPv4 or IPv6 literal, without brackets
  uint16_t port = 0;
};

// Limits of the webhook listener. Sizes in bytes.
struct ListenerLimits {
  // Largest request body accepted (413 above it). Terra splits large
  // requests into chunks only across month boundaries, so a single month of
  // samples can arrive as one body far above the 10 MB chunk size.
  size_t max_body_bytes = size_t{128} << 20;

  // Bytes of request bodies held in memory at once, across connections. A
  // request that would exceed it waits up to `budget_wait` for others to
  // finish, then gets 503 so that Terra retries it later.
  size_t max_inflight_body_bytes = size_t{512} << 20;
  std::chrono::milliseconds budget_wait{5000};

  // Largest request header block accepted (431 above it).
  size_t max_header_bytes = 16 << 10;

  // Time allowed for a request header to arrive once its first byte has
  // arrived, and for each read of the body to make progress.
  std::chrono::milliseconds read_timeout{30000};

  // Time allowed for a whole request, header and body, to arrive once its
  // first byte has. After it the request gets 408 and the connection
  // closes, so a sender cannot hold a connection by keeping each read alive
  // with a trickle of bytes. The default is far above the 8 s that Terra
  // waits for a response, so no delivery that Terra still waits for is cut.
  std::chrono::milliseconds request_timeout{60000};

  // Time a keep-alive connection may stay silent between requests.
  std::chrono::milliseconds idle_timeout{75000};

  // Open connections at once; further connections are accepted and closed
  // at once until one ends.
  size_t max_connections = 1024;
};

struct Config {
  Endpoint listen{"127.0.0.1", 8080};
  std::string webhook_path = "/webhooks/terra";
  ListenerLimits limits;

  // The admin listener (health, metrics): a loopback TCP endpoint, unless
  // `admin_listen_enabled` is false, and a Unix domain socket for control
  // requests when `admin_socket` is not empty.
  bool admin_listen_enabled = true;
  Endpoint admin_listen{"127.0.0.1", 8081};
  std::string admin_socket;  // default: $RUNTIME_DIRECTORY/admin.sock

  std::string store_path;
  bool sync_writes = true;  // false: faster, can lose the last writes on
                            // power loss (never on a process crash)
  size_t block_cache_bytes = size_t{32} << 20;
  size_t write_buffer_bytes = size_t{16} << 20;

  // Signing secrets read from `signing_secret_files`, in the same order.
  // Several are accepted at once so that a secret can be rotated.
  std::vector<std::string> signing_secret_files;
  std::vector<std::string> signing_secrets;
  int64_t signature_tolerance_s = 300;
  bool allow_world_readable_secrets = false;

  size_t json_max_depth = 64;
  int backfill_days = 28;
  // Days an archived delivery and its dedup entry are kept; 0 keeps them all.
  int delivery_retention_days = 30;
  // Days a finished backfill or reconcile job is kept; 0 keeps them all.
  int job_retention_days = 30;
  RestConfig rest;  // Terra REST API; off unless both credential files are set

  int io_threads = 2;
  std::string log_level = "info";

  // Fault injection for tests (hidden from --help): delay each commit, or
  // with test_hold_trace_id only the first delivery with that trace id,
  // which then commits after deliveries with higher sequences.
  std::chrono::milliseconds test_commit_delay{0};
  std::string test_hold_trace_id;

  std::string config_file;  // where the configuration was read from, if any
};

// Outcome of ParseCommandLine.
enum class ParseOutcome {
  kRun,        // `config` is complete and valid
  kExitOk,     // --help or --version was printed; exit 0
  kExitUsage,  // invalid configuration, described in `error`; exit 2
};

// Parses argv and the file named by --config (command-line values win), then
// reads the signing secret files. Prints --help and --version output to
// stdout itself. On kExitUsage, `error` is one line naming the option or file
// and what to do.
[[nodiscard]] ParseOutcome ParseCommandLine(int argc, const char* const* argv,
                                            Config* config,
                                            std::string* error);

// Parses "ADDRESS:PORT", with IPv6 addresses in brackets ("[::1]:8080").
// Returns false if the text is not of that form.
[[nodiscard]] bool ParseEndpoint(const std::string& text, Endpoint* endpoint);

// Reads a secret from `path`: the file's bytes without trailing newlines.
// A path starting with "%d/" is resolved in $CREDENTIALS_DIRECTORY, where
// systemd places credentials. Rejects an empty file, and a file readable by
// other users unless `allow_world_readable` is set. The error message names
// the file but never its content.
[[nodiscard]] bool ReadSecretFile(const std::string& path,
                                  bool allow_world_readable,
                                  std::string* secret, std::string* error);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_CONFIG_H_
