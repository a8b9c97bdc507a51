// `terra-syncctl dump`: prints the connections, records, archived deliveries,
// jobs or counts of a store, as NDJSON, a JSON array, CSV or an aligned
// table. The store is opened as a RocksDB secondary instance, so dump works
// while terra-syncd is running, and on a copy or a backup of a store.

#ifndef TERRA_TOOLS_DUMP_COMMAND_H_
#define TERRA_TOOLS_DUMP_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace terra::tools {

// Runs `dump` with the arguments that follow the subcommand name. Writes the
// rows to `out` and one line per error to `err`. Returns kExitOk, kExitUsage
// (invalid arguments or an unknown --user), kExitStoreError,
// kExitIncomplete after it skipped malformed entries, which it counts in a
// last line on `err`, or kExitSignalBase plus the signal number when SIGINT
// or SIGTERM stopped a dump without --follow. It installs the handlers of
// tools/stop_signals.h for the rest of the process.
[[nodiscard]] int RunDumpCommand(const std::vector<std::string>& args,
                                 std::ostream& out, std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_DUMP_COMMAND_H_
