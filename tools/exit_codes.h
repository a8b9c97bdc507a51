// Exit codes of terra-syncctl, shared by its subcommands.

#ifndef TERRA_TOOLS_EXIT_CODES_H_
#define TERRA_TOOLS_EXIT_CODES_H_

namespace terra::tools {

inline constexpr int kExitOk = 0;
// Invalid arguments, or a user id or file that does not exist.
inline constexpr int kExitUsage = 1;
// The store could not be opened or read.
inline constexpr int kExitStoreError = 2;

}  // namespace terra::tools

#endif  // TERRA_TOOLS_EXIT_CODES_H_
