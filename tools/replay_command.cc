#include "tools/replay_command.h"

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <optional>

#include "daemon/config.h"
#include "tools/delivery_filter_options.h"
#include "tools/exit_codes.h"
#include "tools/subcommand_parser.h"
#include "tools/replay_into.h"
#include "tools/replay_sender.h"
#include "tools/replay_tally.h"

namespace terra::tools {
namespace {

namespace po = boost::program_options;

constexpr std::string_view kPrefix = "terra-syncctl replay: ";

constexpr char kUsage[] =
    "Usage: terra-syncctl replay INPUT OUTPUT [options]\n"
    "INPUT is one of --from-store DIR, --capture FILE or --bodies DIR.\n"
    "OUTPUT is one of --to URL or --into DIR.\n"
    "A capture file has one JSON object per line, as `terra-syncctl dump "
    "deliveries` prints them:\n"
    "  {\"received_ms\", \"trace_id\", \"terra_reference\", "
    "\"ordering_header_ms\", \"signed_at_s\", \"ordering_ms\",\n"
    "   \"event_type\", \"outcome\", \"body\", \"body_encoding\": \"utf-8\" or "
    "\"base64\", ...}; only body is required.\n"
    "Exit codes: 0 every delivery applied or duplicate; 1 invalid arguments or "
    "unreadable input or secret;\n"
    "  2 store error (locked by a running terra-syncd, missing, newer format); "
    "3 some deliveries rejected\n"
    "  or failed (a reset, a timeout or a 5xx response counts as failed), or "
    "invalid input skipped;\n"
    "  4 no connection to the daemon could be opened; the replay stopped.\n"
    "Options";

// Requests in flight at once: each runs on its own connection and thread.
constexpr int kMaxConcurrency = 1024;
// Slowest --rate: one delivery in 1,000 s.
constexpr double kMinRate = 0.001;

struct ReplayArgs {
  std::string from_store;
  std::string capture;
  std::string bodies;
  std::string to_url;
  std::string into;
  std::string secret_file;
  bool allow_world_readable_secret = false;
  int concurrency = 1;
  double rate = 0;
  int timeout_s = 30;
  bool new_trace_ids = false;
  bool dry_run = false;
  std::string on_invalid = "stop";
  int write_buffer_mib = kReplayWriteBufferMib;
  DeliveryFilterOptions filter{.from_option = "--received-from",
                               .to_option = "--received-to"};
};

po::options_description ReplayOptions(ReplayArgs* args) {
  po::options_description options(kUsage);
  options.add_options()              //
      ("help,h", "print this help")  //
      ("from-store", po::value(&args->from_store),
       "input: the deliveries archived in this store (read as a secondary "
       "instance, so its daemon may run)")  //
      ("capture", po::value(&args->capture),
       "input: a capture file, one delivery per line")  //
      ("bodies", po::value(&args->bodies),
       "input: a directory of plain .json bodies, sent in file name order "
       "with no trace id (the body's SHA-256 stands in)")  //
      ("to", po::value(&args->to_url),
       "output: POST to a running terra-syncd at this plain http:// URL, for "
       "example http://127.0.0.1:8080/webhooks/terra")  //
      ("into", po::value(&args->into),
       "output: apply offline into this store directory (an empty one "
       "becomes a new store); its daemon must be stopped")  //
      ("write-buffer-mib", po::value(&args->write_buffer_mib),
       "--into: memtable size per column family, in MiB (default 64, the "
       "daemon uses 16). Larger loads faster with fewer flushes and "
       "compactions, and takes up to twice this per family in memory")  //
      ("secret-file", po::value(&args->secret_file),
       "--to: file with the signing secret the daemon accepts; trailing "
       "newlines are ignored; %d/NAME reads systemd credential NAME")  //
      ("allow-world-readable-secrets",
       po::bool_switch(&args->allow_world_readable_secret),
       "--to: accept a secret file that other users can read")  //
      ("concurrency", po::value(&args->concurrency),
       "--to: requests in flight at once, 1 to 1024 (default 1). Above 1, "
       "deliveries may apply out of input order: data sent beside the auth "
       "or user_reauth of its user can create a separate connection")  //
      ("rate", po::value(&args->rate),
       "--to: maximum deliveries per second; 0 means no limit (default)")  //
      ("timeout", po::value(&args->timeout_s),
       "--to: seconds allowed for each request (default 30)")  //
      ("new-trace-ids", po::bool_switch(&args->new_trace_ids),
       "give each delivery a new trace id, so that deliveries already stored "
       "apply again instead of counting as duplicates")  //
      ("dry-run", po::bool_switch(&args->dry_run),
       "list what would be sent or applied, one line per delivery; change "
       "nothing")  //
      ("on-invalid", po::value(&args->on_invalid),
       "an invalid capture line or unreadable body file: stop (default) or "
       "skip; either way it is reported with its line number or file name")  //
      ("received-from", po::value(&args->filter.from),
       "--from-store: first received time, YYYY-MM-DD (UTC) or "
       "YYYY-MM-DDTHH:MM:SSZ, inclusive")  //
      ("received-to", po::value(&args->filter.to),
       "--from-store: last received time, inclusive (a date covers its whole "
       "UTC day)");
  args->filter.AddTo(&options);
  return options;
}

std::optional<int> ParseArgs(const std::vector<std::string>& args,
                             ReplayArgs* replay, std::ostream& out,
                             std::ostream& err) {
  po::options_description options = ReplayOptions(replay);
  po::variables_map values;
  return ParseSubcommand({"replay", &options}, args, &values, out, err);
}

// Checks the combination of options. Returns an error message or "".
std::string CheckArgs(const ReplayArgs& replay) {
  int inputs = !replay.from_store.empty() + !replay.capture.empty() +
               !replay.bodies.empty();
  int outputs = !replay.to_url.empty() + !replay.into.empty();
  if (inputs != 1) {
    return "name exactly one input: --from-store DIR, --capture FILE or "
           "--bodies DIR";
  }
  if (outputs != 1) {
    return "name exactly one output: --to URL or --into DIR";
  }
  const DeliveryFilterOptions& filter = replay.filter;
  bool filtered = !filter.from.empty() || !filter.to.empty() ||
                  !filter.trace_id.empty() || !filter.terra_reference.empty() ||
                  !filter.event_type.empty() || !filter.outcome.empty();
  if (filtered && replay.from_store.empty()) {
    return "the delivery filters apply to --from-store only";
  }
  if (!replay.to_url.empty() && replay.secret_file.empty() && !replay.dry_run) {
    return "--to needs --secret-file, the signing secret the daemon accepts";
  }
  if (replay.concurrency < 1 || replay.concurrency > kMaxConcurrency) {
    return "--concurrency " + std::to_string(replay.concurrency) +
           " is out of range; give 1 to " + std::to_string(kMaxConcurrency);
  }
  // Tiny rates are rejected because the pause between requests (1e-300 per
  // second) would overflow the clock; NaN and infinity are not rates.
  if (replay.rate != 0 &&
      !(replay.rate >= kMinRate && std::isfinite(replay.rate))) {
    return "--rate must be 0 (no limit) or a number of deliveries per second "
           "from 0.001 up";
  }
  if (replay.timeout_s < 1) {
    return "--timeout must be at least 1 second";
  }
  if (replay.write_buffer_mib < 1 || replay.write_buffer_mib > 4096) {
    return "--write-buffer-mib " + std::to_string(replay.write_buffer_mib) +
           " is out of range; give 1 to 4096";
  }
  if (replay.on_invalid != "stop" && replay.on_invalid != "skip") {
    return "--on-invalid \"" + replay.on_invalid + "\" is not stop or skip";
  }
  return {};
}

// Builds the input description. Returns an error message or "".
std::string BuildInput(const ReplayArgs& replay, ReplayInput* input) {
  input->stop_on_invalid = replay.on_invalid == "stop";
  if (!replay.capture.empty()) {
    input->kind = ReplayInput::Kind::kCapture;
    input->path = replay.capture;
  } else if (!replay.bodies.empty()) {
    input->kind = ReplayInput::Kind::kBodies;
    input->path = replay.bodies;
  } else {
    input->kind = ReplayInput::Kind::kStore;
    input->path = replay.from_store;
  }
  std::string error;
  if (!replay.filter.Resolve(&input->filter, &error)) {
    return error;
  }
  return {};
}

TraceIdPolicy Policy(const ReplayArgs& replay) {
  return {replay.new_trace_ids,
          std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count()};
}

int RunTo(const ReplayArgs& replay, const ReplayInput& input,
          ReplayTally* tally, std::ostream& out, std::ostream& err) {
  ReplayToOptions options;
  std::string error;
  if (!ParseHttpUrl(replay.to_url, &options.target, &error)) {
    err << kPrefix << "--to " << error << "\n";
    return kExitUsage;
  }
  if (!replay.dry_run &&
      !daemon::ReadSecretFile(replay.secret_file,
                              replay.allow_world_readable_secret,
                              &options.secret, &error)) {
    err << kPrefix << error << "\n";
    return kExitUsage;
  }
  options.concurrency = replay.concurrency;
  options.rate = replay.rate;
  options.timeout = std::chrono::seconds(replay.timeout_s);
  options.trace_ids = Policy(replay);
  options.dry_run = replay.dry_run;
  return ReplayTo(input, options, tally, out, err);
}

int RunInto(const ReplayArgs& replay, const ReplayInput& input,
            ReplayTally* tally, std::ostream& out, std::ostream& err) {
  ReplayIntoOptions options;
  options.store_path = replay.into;
  options.write_buffer_bytes = static_cast<size_t>(replay.write_buffer_mib)
                               << 20;
  options.trace_ids = Policy(replay);
  options.dry_run = replay.dry_run;
  return ReplayInto(input, options, tally, out, err);
}

}  // namespace

int RunReplayCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  ReplayArgs replay;
  if (std::optional<int> exit_code = ParseArgs(args, &replay, out, err)) {
    return *exit_code;
  }
  ReplayInput input;
  std::string error = CheckArgs(replay);
  if (error.empty()) {
    error = BuildInput(replay, &input);
  }
  if (!error.empty()) {
    err << kPrefix << error << "; run terra-syncctl replay --help for usage\n";
    return kExitUsage;
  }

  ReplayTally tally;
  int code = replay.to_url.empty() ? RunInto(replay, input, &tally, out, err)
                                   : RunTo(replay, input, &tally, out, err);
  out.flush();
  tally.Print(err);
  return code != kExitOk ? code : tally.ExitCode();
}

}  // namespace terra::tools
