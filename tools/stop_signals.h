// Stop signals of terra-syncctl dump and replay --into. SIGINT and SIGTERM
// set a flag that the dump checks between rows, --follow between polls and
// replay --into between deliveries, so each returns through the usual
// cleanup: a dump removes the secondary instance's scratch directory, and a
// replay flushes what it applied. A second SIGINT or SIGTERM ends the
// process at once, without that cleanup, for a process that waits on input
// (a pipe that stays open and silent) and so does not check the flag. SIGPIPE is ignored, so that a closed pipe shows up as a
// failed write instead of killing the process.
//
// Thread safety: the flag is an atomic; any thread may call StopRequested.

#ifndef TERRA_TOOLS_STOP_SIGNALS_H_
#define TERRA_TOOLS_STOP_SIGNALS_H_

namespace terra::tools {

// Installs the handlers for SIGINT and SIGTERM and ignores SIGPIPE, for the
// rest of the process.
void InstallStopHandlers();

// Returns true once SIGINT or SIGTERM has arrived.
[[nodiscard]] bool StopRequested();

// Returns the number of the first SIGINT or SIGTERM that arrived, or 0.
[[nodiscard]] int StopSignal();

}  // namespace terra::tools

#endif  // TERRA_TOOLS_STOP_SIGNALS_H_
