// Which data types a connection's scopes allow a backfill to fetch. Terra
// reports scopes as the provider names them: some providers list one scope per
// data type ("activity:read,sleep:read"), others broad grants
// ("ACTIVITY_EXPORT,HEALTH_EXPORT") that do not map to data types.

#ifndef TERRA_DAEMON_SCOPES_H_
#define TERRA_DAEMON_SCOPES_H_

#include <string>
#include <string_view>
#include <vector>

namespace terra::daemon {

// Returns the types of `enabled` that `scopes` allows. Only scopes of the form
// "<type>:<access>" (case-insensitive, separated by commas or spaces) name
// data types; when at least one does, the result is the enabled types they
// name, in `enabled` order. When none does, the scopes say nothing about data
// types and every enabled type is returned.
std::vector<std::string> TypesAllowedByScopes(
    const std::vector<std::string>& enabled, std::string_view scopes);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_SCOPES_H_
