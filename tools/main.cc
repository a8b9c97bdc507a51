// terra-syncctl: inspects a terra-sync store, replays deliveries and signs
// payloads.

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iomanip>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/control_command.h"
#include "tools/dump_command.h"
#include "tools/exit_codes.h"
#include "tools/replay_command.h"
#include "tools/sign_command.h"

namespace {

using Command = int (*)(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err);

struct Subcommand {
  std::string_view name;
  Command run;
  std::string_view summary;
};

constexpr Subcommand kSubcommands[] = {
    {"dump", terra::tools::RunDumpCommand,
     "print connections, records, deliveries, jobs or counts of a store"},
    {"replay", terra::tools::RunReplayCommand,
     "re-apply archived or captured deliveries to a daemon or a store"},
    {"sign", terra::tools::RunSignCommand,
     "print the terra-signature header value for a body"},
    {"backfill", terra::tools::RunBackfillCommand,
     "ask the running daemon to fetch a user's date range from Terra"},
    {"reconcile", terra::tools::RunReconcileCommand,
     "ask the running daemon to reconcile with Terra now"},
};

void PrintUsage(std::ostream& out) {
  out << "Usage: terra-syncctl COMMAND [options]\n"
         "       terra-syncctl --help | --version\n\nCommands:\n";
  for (const Subcommand& command : kSubcommands) {
    out << "  " << std::left << std::setw(11) << command.name
        << command.summary << "\n";
  }
  out << "\nRun terra-syncctl COMMAND --help for the options of a command.\n";
}

const Subcommand* FindSubcommand(std::string_view name) {
  for (const Subcommand& command : kSubcommands) {
    if (command.name == name) {
      return &command;
    }
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing here writes through C stdio, so the C++ streams may buffer on
  // their own: a dump of millions of rows then writes in large blocks.
  std::ios::sync_with_stdio(false);
  // Log lines, RocksDB's included, go to stderr: stdout carries the output
  // that users pipe into other programs.
  spdlog::set_default_logger(spdlog::stderr_logger_st("terra-syncctl"));
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintUsage(std::cerr);
    return terra::tools::kExitUsage;
  }

  std::string_view first = args.front();
  if (first == "--help" || first == "-h") {
    PrintUsage(std::cout);
    return terra::tools::kExitOk;
  }
  if (first == "--version") {
    std::cout << "terra-syncctl " << TERRA_SYNC_VERSION << "\n";
    return terra::tools::kExitOk;
  }

  const Subcommand* command = FindSubcommand(first);
  if (command == nullptr) {
    std::cerr << "terra-syncctl: unknown command \"" << first
              << "\"; run terra-syncctl --help for the list of commands\n";
    return terra::tools::kExitUsage;
  }
  args.erase(args.begin());
  return command->run(args, std::cout, std::cerr);
}
