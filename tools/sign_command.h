// `terra-syncctl sign`: prints the `terra-signature` header value that Terra
// would send for a body, for replaying captured deliveries and for tests.

#ifndef TERRA_TOOLS_SIGN_COMMAND_H_
#define TERRA_TOOLS_SIGN_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace terra::tools {

// Runs `sign` with the arguments that follow the subcommand name. Writes
// "t=<seconds>,v1=<hex>" and a newline to `out`, and one line per error to
// `err`. The secret is never written. Returns kExitOk or kExitUsage.
[[nodiscard]] int RunSignCommand(const std::vector<std::string>& args,
                                 std::ostream& out, std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_SIGN_COMMAND_H_
