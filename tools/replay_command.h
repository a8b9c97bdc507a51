// `terra-syncctl replay`: re-applies deliveries from a store's archive, a
// capture file or a directory of bodies, either by POSTing them re-signed to
// a running terra-syncd (--to URL) or offline into a stopped daemon's store
// (--into DIR), and prints a summary of the results.

#ifndef TERRA_TOOLS_REPLAY_COMMAND_H_
#define TERRA_TOOLS_REPLAY_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace terra::tools {

// Runs `replay` with the arguments that follow the subcommand name. Writes
// --dry-run listings to `out`, and errors, progress and the summary to
// `err`. Returns kExitOk, kExitUsage, kExitStoreError, kExitIncomplete or
// kExitUnreachable (see exit_codes.h and --help).
[[nodiscard]] int RunReplayCommand(const std::vector<std::string>& args,
                                   std::ostream& out, std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_REPLAY_COMMAND_H_
