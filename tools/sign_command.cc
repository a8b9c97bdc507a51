#include "tools/sign_command.h"

#include <boost/program_options.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "daemon/config.h"
#include "daemon/signature.h"
#include "tools/exit_codes.h"
#include "tools/subcommand_parser.h"

namespace terra::tools {
namespace {

namespace po = boost::program_options;

constexpr std::string_view kPrefix = "terra-syncctl sign: ";

struct SignArgs {
  std::string secret_file;
  bool allow_world_readable = false;
  std::optional<int64_t> timestamp_s;
  std::string body_file;
};

po::options_description SignOptions(SignArgs* args) {
  po::options_description options(
      "Usage: terra-syncctl sign --secret-file FILE [--timestamp UNIX_SECONDS] "
      "BODY_FILE\n"
      "Prints the terra-signature header value for the bytes of BODY_FILE");
  options.add_options()              //
      ("help,h", "print this help")  //
      ("secret-file", po::value(&args->secret_file)->required(),
       "file that contains the signing secret; trailing newlines are "
       "ignored; %d/NAME reads systemd credential NAME")  //
      ("allow-world-readable-secrets",
       po::bool_switch(&args->allow_world_readable),
       "accept a secret file that other users can read")  //
      ("timestamp", po::value<int64_t>(),
       "signing time in unix seconds; default: now");
  return options;
}

// Parses `args`. Returns the exit code to end with after an error or --help,
// or nullopt when the command should run.
std::optional<int> ParseArgs(const std::vector<std::string>& args,
                             SignArgs* sign, std::ostream& out,
                             std::ostream& err) {
  po::options_description options = SignOptions(sign);
  po::options_description hidden;
  // Not required() here: Boost would name the hidden option in its message.
  hidden.add_options()("body-file", po::value(&sign->body_file));
  po::positional_options_description positional;
  positional.add("body-file", 1);

  po::variables_map values;
  if (std::optional<int> exit_code = ParseSubcommand(
          {"sign", &options, &hidden, &positional}, args, &values, out, err)) {
    return exit_code;
  }
  if (sign->body_file.empty()) {
    err << kPrefix << "name the BODY_FILE to sign; run terra-syncctl sign "
                      "--help for usage\n";
    return kExitUsage;
  }
  if (values.count("timestamp") > 0) {
    sign->timestamp_s = values["timestamp"].as<int64_t>();
  }
  return std::nullopt;
}

// Reads a whole file. Returns false if it cannot be read.
bool ReadFile(const std::string& path, std::string* bytes) {
  // A directory opens as a stream that reads nothing, which would sign an
  // empty body.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return false;
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  *bytes = contents.str();
  return !in.bad();
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int RunSignCommand(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  SignArgs sign;
  if (std::optional<int> exit_code = ParseArgs(args, &sign, out, err)) {
    return *exit_code;
  }

  // The daemon's own reader, so that a secret file signs here exactly when
  // the daemon accepts it.
  std::string secret;
  std::string error;
  if (!daemon::ReadSecretFile(sign.secret_file, sign.allow_world_readable,
                              &secret, &error)) {
    err << kPrefix << error << "\n";
    return kExitUsage;
  }

  std::string body;
  if (!ReadFile(sign.body_file, &body)) {
    err << kPrefix << "cannot read body file " << sign.body_file
        << "; check the path and its permissions\n";
    return kExitUsage;
  }

  out << daemon::SignBody(secret, sign.timestamp_s.value_or(NowSeconds()), body)
      << "\n";
  return kExitOk;
}

}  // namespace terra::tools
