// `terra-syncctl backfill` and `terra-syncctl reconcile`: operator requests
// to a running terra-syncd over its admin Unix socket.

#ifndef TERRA_TOOLS_CONTROL_COMMAND_H_
#define TERRA_TOOLS_CONTROL_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace terra::tools {

// Queues a backfill of one user's date range. Returns an exit code of
// exit_codes.h.
int RunBackfillCommand(const std::vector<std::string>& args, std::ostream& out,
                       std::ostream& err);

// Runs a reconciliation now, and with --wait waits for its jobs. Returns an
// exit code of exit_codes.h.
int RunReconcileCommand(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_CONTROL_COMMAND_H_
