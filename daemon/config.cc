#include "daemon/config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "store/json_parse.h"

namespace terra::daemon {
namespace {

namespace po = boost::program_options;

// Beast keeps the header limit in 32 bits; no legitimate webhook needs more
// than a few kilobytes of headers.
constexpr size_t kMaxHeaderLimitBytes = 1 << 20;

// Connections beyond this would exceed the descriptors a service gets by
// default many times over; "-1" parses as a huge unsigned number.
constexpr size_t kMaxConnectionsLimit = 1'000'000;
// A retention of more than a century is taken for a typo.
constexpr int kMaxRetentionDays = 36500;

// A zero timeout would close every connection before its first request.
constexpr std::chrono::milliseconds kMinTimeout{100};

// Raw option values before validation; sizes and durations keep their text
// so that "128M" and "30s" can be parsed with a clear error.
struct RawOptions {
  std::string listen = "127.0.0.1:8080";
  std::string max_body = "128M";
  std::string max_inflight_body = "512M";
  std::string budget_wait = "5s";
  std::string max_header = "16K";
  std::string read_timeout = "30s";
  std::string request_timeout = "60s";
  std::string idle_timeout = "75s";
  std::string block_cache = "32M";
  std::string write_buffer = "16M";
  std::string admin_listen = "127.0.0.1:8081";
  std::string test_commit_delay = "0ms";
};

po::options_description BuildOptions(Config* config, RawOptions* raw) {
  po::options_description general("General");
  general.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("config,c", po::value(&config->config_file),
       "INI file with any of the options below (without the leading --); "
       "command-line values win over the file");

  po::options_description listener("Webhook listener");
  listener.add_options()
      ("listen", po::value(&raw->listen)->default_value(raw->listen),
       "ADDRESS:PORT to accept webhooks on; IPv6 as [::1]:8080; port 0 picks "
       "a free port (logged at start)")
      ("webhook-path",
       po::value(&config->webhook_path)->default_value(config->webhook_path),
       "URL path that accepts POSTed Terra webhooks")
      ("max-body-size", po::value(&raw->max_body)->default_value(raw->max_body),
       "largest request body, bytes with optional K, M or G suffix (413 above)")
      ("max-inflight-body-size",
       po::value(&raw->max_inflight_body)->default_value(raw->max_inflight_body),
       "request body bytes held in memory at once across all connections")
      ("inflight-wait", po::value(&raw->budget_wait)->default_value(raw->budget_wait),
       "how long a request waits for body memory before it gets 503 (ms, s)")
      ("max-header-size", po::value(&raw->max_header)->default_value(raw->max_header),
       "largest request header block, bytes with optional K suffix (431 above)")
      ("read-timeout", po::value(&raw->read_timeout)->default_value(raw->read_timeout),
       "time for a request header to arrive, and for each body read to make "
       "progress (ms, s)")
      ("request-timeout",
       po::value(&raw->request_timeout)->default_value(raw->request_timeout),
       "time for a whole request, header and body, to arrive once its first "
       "byte has; 408 after it (ms, s)")
      ("idle-timeout", po::value(&raw->idle_timeout)->default_value(raw->idle_timeout),
       "time a keep-alive connection may stay silent between requests (ms, s)")
      ("max-connections",
       po::value(&config->limits.max_connections)
           ->default_value(config->limits.max_connections),
       "open connections at once; more are closed at accept")
      ("io-threads", po::value(&config->io_threads)->default_value(config->io_threads),
       "threads that run the network event loop");

  po::options_description admin("Admin listener");
  admin.add_options()
      ("admin-listen", po::value(&raw->admin_listen)->default_value(raw->admin_listen),
       "ADDRESS:PORT serving GET /healthz and GET /metrics; keep it on "
       "loopback; \"none\" turns it off")
      ("admin-socket", po::value(&config->admin_socket),
       "Unix socket for control requests and health (mode 0660); default: "
       "admin.sock in $RUNTIME_DIRECTORY when systemd sets it, else none");

  po::options_description security("Signatures");
  security.add_options()
      ("signing-secret-file",
       po::value(&config->signing_secret_files)->multitoken(),
       "file holding a webhook signing secret; repeat for rotation (any secret "
       "may match); %d/NAME reads systemd credential NAME")
      ("signature-tolerance",
       po::value(&config->signature_tolerance_s)
           ->default_value(config->signature_tolerance_s),
       "seconds a signature's t may differ from the clock")
      ("allow-world-readable-secrets",
       po::bool_switch(&config->allow_world_readable_secrets),
       "accept secret files that other users can read");

  po::options_description store("Store");
  store.add_options()
      ("store", po::value(&config->store_path),
       "directory of the RocksDB store; must exist (an empty one becomes a new "
       "store)")
      ("sync-writes",
       po::value(&config->sync_writes)->default_value(config->sync_writes),
       "fsync each commit before answering 200; false is faster but a power "
       "loss can lose the last acknowledged deliveries")
      ("block-cache-size", po::value(&raw->block_cache)->default_value(raw->block_cache),
       "RocksDB block cache, bytes with optional K, M or G suffix")
      ("write-buffer-size", po::value(&raw->write_buffer)->default_value(raw->write_buffer),
       "RocksDB memtable size per column family, bytes with optional suffix")
      ("json-max-depth",
       po::value(&config->json_max_depth)->default_value(config->json_max_depth),
       "maximum nesting of a JSON body; deeper bodies are quarantined")
      ("backfill-days",
       po::value(&config->backfill_days)->default_value(config->backfill_days),
       "days of history a backfill job requests when a user connects")
      ("delivery-retention-days",
       po::value(&config->delivery_retention_days)
           ->default_value(config->delivery_retention_days),
       "days an archived delivery and its dedup entry are kept; 0 keeps "
       "them all")
      ("job-retention-days",
       po::value(&config->job_retention_days)
           ->default_value(config->job_retention_days),
       "days a finished backfill or reconcile job is kept; 0 keeps them all");

  po::options_description logging("Logging");
  logging.add_options()
      ("log-level", po::value(&config->log_level)->default_value(config->log_level),
       "trace, debug, info, warn, error or critical");

  po::options_description all("terra-syncd: receives Terra webhooks into a "
                              "RocksDB store\n\nUsage: terra-syncd "
                              "[--config FILE] [OPTIONS]");
  all.add(general).add(listener).add(admin).add(security).add(store).add(logging);
  all.add(BuildRestOptions(&config->rest));
  return all;
}

// Options that tests use and --help does not show.
po::options_description BuildHiddenOptions(Config* config, RawOptions* raw) {
  po::options_description hidden;
  hidden.add_options()
      ("test-commit-delay", po::value(&raw->test_commit_delay),
       "fault injection: delay every commit (ms, s)")
      ("test-hold-trace-id", po::value(&config->test_hold_trace_id),
       "fault injection: apply --test-commit-delay only to the first delivery "
       "with this trace id, and let later deliveries commit before it");
  return hidden;
}

// Parses "128", "16K", "128M", "1G" (binary multiples).
bool ParseSize(const std::string& text, size_t* bytes) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [rest, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || rest == text.data()) {
    return false;
  }
  std::string_view suffix(rest, end - rest);
  int shift = 0;
  if (suffix == "K" || suffix == "k" || suffix == "KiB") {
    shift = 10;
  } else if (suffix == "M" || suffix == "m" || suffix == "MiB") {
    shift = 20;
  } else if (suffix == "G" || suffix == "g" || suffix == "GiB") {
    shift = 30;
  } else if (!suffix.empty()) {
    return false;
  }
  if (value > (UINT64_MAX >> shift)) {
    return false;
  }
  *bytes = static_cast<size_t>(value << shift);
  return true;
}

// Parses "250ms", "30s", "2m"; a bare number is seconds.
bool ParseDuration(const std::string& text, std::chrono::milliseconds* out) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [rest, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || rest == text.data() || value > 86400000) {
    return false;
  }
  std::string_view suffix(rest, end - rest);
  if (suffix == "ms") {
    *out = std::chrono::milliseconds(value);
  } else if (suffix.empty() || suffix == "s") {
    *out = std::chrono::seconds(value);
  } else if (suffix == "m" || suffix == "min") {
    *out = std::chrono::minutes(value);
  } else {
    return false;
  }
  return true;
}

// Converts the raw size and duration texts; names the option on error.
bool ApplyRawOptions(const RawOptions& raw, Config* config, std::string* error) {
  struct SizeOption {
    const char* name;
    const std::string& text;
    size_t* target;
  };
  const SizeOption sizes[] = {
      {"max-body-size", raw.max_body, &config->limits.max_body_bytes},
      {"max-inflight-body-size", raw.max_inflight_body,
       &config->limits.max_inflight_body_bytes},
      {"max-header-size", raw.max_header, &config->limits.max_header_bytes},
      {"block-cache-size", raw.block_cache, &config->block_cache_bytes},
      {"write-buffer-size", raw.write_buffer, &config->write_buffer_bytes},
  };
  for (const SizeOption& option : sizes) {
    if (!ParseSize(option.text, option.target)) {
      *error = std::string("invalid --") + option.name + " '" + option.text +
               "': expected bytes with an optional K, M or G suffix, like 128M";
      return false;
    }
  }

  struct DurationOption {
    const char* name;
    const std::string& text;
    std::chrono::milliseconds* target;
  };
  const DurationOption durations[] = {
      {"inflight-wait", raw.budget_wait, &config->limits.budget_wait},
      {"read-timeout", raw.read_timeout, &config->limits.read_timeout},
      {"request-timeout", raw.request_timeout, &config->limits.request_timeout},
      {"idle-timeout", raw.idle_timeout, &config->limits.idle_timeout},
      {"test-commit-delay", raw.test_commit_delay, &config->test_commit_delay},
  };
  for (const DurationOption& option : durations) {
    if (!ParseDuration(option.text, option.target)) {
      *error = std::string("invalid --") + option.name + " '" + option.text +
               "': expected a duration like 500ms, 30s or 2m";
      return false;
    }
  }

  if (!ParseEndpoint(raw.listen, &config->listen)) {
    *error = "invalid --listen '" + raw.listen +
             "': expected a numeric ADDRESS:PORT, such as 127.0.0.1:8080 or "
             "[::1]:8080";
    return false;
  }
  config->admin_listen_enabled = raw.admin_listen != "none";
  if (config->admin_listen_enabled &&
      !ParseEndpoint(raw.admin_listen, &config->admin_listen)) {
    *error = "invalid --admin-listen '" + raw.admin_listen +
             "': expected ADDRESS:PORT such as 127.0.0.1:8081, or none";
    return false;
  }
  if (config->admin_socket.empty()) {
    const char* runtime = std::getenv("RUNTIME_DIRECTORY");
    if (runtime != nullptr && *runtime != '\0') {
      config->admin_socket = std::string(runtime) + "/admin.sock";
    }
  }
  return true;
}

// Checks the values that no parser checks: ranges and required options.
bool Validate(const Config& config, std::string* error) {
  if (config.store_path.empty()) {
    *error = "missing --store: name the directory of the store";
    return false;
  }
  if (config.signing_secret_files.empty()) {
    *error =
        "missing --signing-secret-file: name a file holding the webhook "
        "signing secret from the Terra dashboard";
    return false;
  }
  if (config.webhook_path.empty() || config.webhook_path.front() != '/') {
    *error = "invalid --webhook-path '" + config.webhook_path +
             "': it must start with /";
    return false;
  }
  if (config.limits.max_body_bytes == 0 ||
      config.limits.max_inflight_body_bytes < config.limits.max_body_bytes) {
    *error =
        "invalid --max-inflight-body-size: it must be at least "
        "--max-body-size, or the largest accepted body could never be read";
    return false;
  }
  if (config.limits.max_header_bytes < 1024 ||
      config.limits.max_header_bytes > kMaxHeaderLimitBytes) {
    *error = "invalid --max-header-size: use 1K to 1M (below 1K no Terra "
             "request fits)";
    return false;
  }
  if (config.limits.read_timeout < kMinTimeout ||
      config.limits.request_timeout < kMinTimeout ||
      config.limits.idle_timeout < kMinTimeout) {
    *error = "invalid --read-timeout, --request-timeout or --idle-timeout: "
             "use 100ms or more";
    return false;
  }
  if (config.limits.max_connections == 0 ||
      config.limits.max_connections > kMaxConnectionsLimit) {
    *error = "invalid --max-connections: use 1 to " +
             std::to_string(kMaxConnectionsLimit);
    return false;
  }
  if (config.io_threads < 1 || config.io_threads > 64) {
    *error = "invalid --io-threads: use 1 to 64";
    return false;
  }
  if (config.signature_tolerance_s < 1) {
    *error = "invalid --signature-tolerance: use 1 second or more";
    return false;
  }
  if (config.delivery_retention_days < 0 ||
      config.delivery_retention_days > kMaxRetentionDays) {
    *error = "invalid --delivery-retention-days " +
             std::to_string(config.delivery_retention_days) +
             ": use 0 (keep all) to " + std::to_string(kMaxRetentionDays);
    return false;
  }
  if (config.job_retention_days < 0 ||
      config.job_retention_days > kMaxRetentionDays) {
    *error = "invalid --job-retention-days " +
             std::to_string(config.job_retention_days) +
             ": use 0 (keep all) to " + std::to_string(kMaxRetentionDays);
    return false;
  }
  if (config.json_max_depth < 8 || config.json_max_depth > store::kMaxJsonDepth) {
    *error = "invalid --json-max-depth " + std::to_string(config.json_max_depth) +
             ": use 8 to " + std::to_string(store::kMaxJsonDepth);
    return false;
  }
  if (config.backfill_days < 1) {
    *error = "invalid --backfill-days " + std::to_string(config.backfill_days) +
             ": use 1 or more";
    return false;
  }
  return true;
}

bool ReadSecrets(Config* config, std::string* error) {
  config->signing_secrets.clear();
  for (const std::string& path : config->signing_secret_files) {
    std::string secret;
    if (!ReadSecretFile(path, config->allow_world_readable_secrets, &secret,
                        error)) {
      return false;
    }
    config->signing_secrets.push_back(std::move(secret));
  }
  return true;
}

}  // namespace

bool ParseEndpoint(const std::string& text, Endpoint* endpoint) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return false;
  }
  std::string address = text.substr(0, colon);
  if (address.front() == '[') {
    if (address.size() < 3 || address.back() != ']') {
      return false;
    }
    address = address.substr(1, address.size() - 2);
  } else if (address.find(':') != std::string::npos) {
    return false;  // a bare IPv6 address is ambiguous without brackets
  }

  // Only numeric addresses: resolving a name here would bind whatever it
  // resolves to at start, which differs between machines.
  unsigned char parsed[sizeof(in6_addr)];
  if (inet_pton(AF_INET, address.c_str(), parsed) != 1 &&
      inet_pton(AF_INET6, address.c_str(), parsed) != 1) {
    return false;
  }

  std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [rest, error] = std::from_chars(
      port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || rest != port_text.data() + port_text.size() ||
      port_text.empty() || port > 65535) {
    return false;
  }

  endpoint->address = address;
  endpoint->port = static_cast<uint16_t>(port);
  return true;
}

bool ReadSecretFile(const std::string& path, bool allow_world_readable,
                    std::string* secret, std::string* error) {
  std::string resolved = path;
  if (path.rfind("%d/", 0) == 0) {
    const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
    if (credentials == nullptr || *credentials == '\0') {
      *error = "secret file " + path +
               " names a systemd credential, but $CREDENTIALS_DIRECTORY is not "
               "set; add LoadCredential= to the unit or give a plain path";
      return false;
    }
    resolved = std::string(credentials) + path.substr(2);
  }

  struct stat info {};
  if (stat(resolved.c_str(), &info) != 0) {
    *error = "cannot read secret file " + resolved + ": it does not exist or "
             "is not accessible";
    return false;
  }
  if (S_ISDIR(info.st_mode)) {
    *error = "secret file " + resolved + " is a directory; give the path of "
             "the file that holds the secret";
    return false;
  }
  if ((info.st_mode & S_IROTH) != 0 && !allow_world_readable) {
    *error = "secret file " + resolved +
             " is readable by every user; run chmod 600 on it, or pass "
             "--allow-world-readable-secrets";
    return false;
  }

  std::ifstream in(resolved, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in.good() && !in.eof()) {
    *error = "cannot read secret file " + resolved;
    return false;
  }
  std::string content = bytes.str();
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
    content.pop_back();
  }
  if (content.empty()) {
    *error = "secret file " + resolved + " is empty; put the signing secret in it";
    return false;
  }
  *secret = std::move(content);
  return true;
}

ParseOutcome ParseCommandLine(int argc, const char* const* argv, Config* config,
                              std::string* error) {
  RawOptions raw;
  po::options_description options = BuildOptions(config, &raw);
  po::options_description everything;
  everything.add(options).add(BuildHiddenOptions(config, &raw));
  everything.add(BuildHiddenRestOptions(&config->rest));
  po::variables_map values;

  try {
    po::store(po::parse_command_line(argc, argv, everything), values);
    if (values.count("help") != 0) {
      std::cout << options << "\n";
      return ParseOutcome::kExitOk;
    }
    if (values.count("version") != 0) {
      std::cout << "terra-syncd " << TERRA_SYNC_VERSION << "\n";
      return ParseOutcome::kExitOk;
    }
    if (values.count("config") != 0) {
      std::string path = values["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) {
        *error = "cannot read configuration file " + path;
        return ParseOutcome::kExitUsage;
      }
      po::store(po::parse_config_file(file, everything), values);
    }
    po::notify(values);
  } catch (const po::error& e) {
    *error = std::string(e.what()) + " (see terra-syncd --help)";
    return ParseOutcome::kExitUsage;
  }

  if (!ApplyRawOptions(raw, config, error) || !Validate(*config, error) ||
      !ReadSecrets(config, error) ||
      !FinishRestConfig(config->allow_world_readable_secrets, &config->rest,
                        error)) {
    return ParseOutcome::kExitUsage;
  }
  return ParseOutcome::kRun;
}

}  // namespace terra::daemon
