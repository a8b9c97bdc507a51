// Exit codes of terra-syncctl, shared by its subcommands.

#ifndef TERRA_TOOLS_EXIT_CODES_H_
#define TERRA_TOOLS_EXIT_CODES_H_

namespace terra::tools {

inline constexpr int kExitOk = 0;
// Invalid arguments, or a user id or file that does not exist.
inline constexpr int kExitUsage = 1;
// The store could not be opened, read or written (including a store locked by
// a running terra-syncd).
inline constexpr int kExitStoreError = 2;
// It ran to the end, but with gaps. replay: some deliveries were rejected or
// failed, or some capture lines were invalid and skipped. dump: some
// malformed store entries were skipped.
inline constexpr int kExitIncomplete = 3;
// replay --to: no connection to the daemon could be opened (refused,
// unresolvable host, or connecting timed out); the replay stopped. A request
// that fails after its connection opened counts as failed (kExitIncomplete).
inline constexpr int kExitUnreachable = 4;
// dump without --follow: SIGINT or SIGTERM stopped it before the end. It
// exits with this base plus the signal number (130, 143), the code a shell
// shows for a process that the signal killed.
inline constexpr int kExitSignalBase = 128;

}  // namespace terra::tools

#endif  // TERRA_TOOLS_EXIT_CODES_H_
