// The daemon's side of systemd, in one place: readiness and status
// notifications, the watchdog interval and sockets passed by socket
// activation. Every call is a no-op where systemd is absent (no
// NOTIFY_SOCKET, no LISTEN_FDS), so the rest of the daemon needs no #ifdef.

#ifndef TERRA_DAEMON_SYSTEMD_H_
#define TERRA_DAEMON_SYSTEMD_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace terra::daemon::systemd {

// READY=1 with a STATUS= line.
void NotifyReady(std::string_view status);

// STATUS=<text>.
void NotifyStatus(std::string_view status);

// RELOADING=1 with MONOTONIC_USEC=, as systemd 253+ expects; older systemd
// ignores the extra field.
void NotifyReloading();

// STOPPING=1.
void NotifyStopping();

// WATCHDOG=1.
void NotifyWatchdog();

// The interval at which WATCHDOG=1 must be sent (half of WATCHDOG_USEC), or
// nothing when the watchdog is not enabled for this process.
std::optional<std::chrono::microseconds> WatchdogPingInterval();

// Listening sockets passed by the service manager, keyed "webhook" and
// "admin". A socket named so by FileDescriptorName= takes that role; any
// other is "admin" if it is a Unix domain socket and "webhook" otherwise, so
// a single socket unit with a TCP and a Unix socket works without names.
// Surplus sockets for a role are closed with a log line. Takes ownership of
// the descriptors and unsets LISTEN_FDS so that children do not inherit
// them. Empty without socket activation.
std::map<std::string, int> TakeListenSockets();

// Returns true if `fd` is a listening socket of the Unix domain family.
bool IsUnixSocket(int fd);

}  // namespace terra::daemon::systemd

#endif  // TERRA_DAEMON_SYSTEMD_H_
