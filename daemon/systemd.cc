#include "daemon/systemd.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <ctime>
#include <string>

namespace terra::daemon::systemd {
namespace {

void Notify(const std::string& state) {
  // sd_notify returns 0 without NOTIFY_SOCKET and a negative errno on
  // failure; neither is worth stopping the daemon for.
  sd_notify(0, state.c_str());
}

uint64_t MonotonicMicroseconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000 +
         static_cast<uint64_t>(now.tv_nsec) / 1000;
}

}  // namespace

void NotifyReady(std::string_view status) {
  Notify("READY=1\nSTATUS=" + std::string(status));
}

void NotifyStatus(std::string_view status) {
  Notify("STATUS=" + std::string(status));
}

void NotifyReloading() {
  Notify("RELOADING=1\nMONOTONIC_USEC=" +
         std::to_string(MonotonicMicroseconds()));
}

void NotifyStopping() { Notify("STOPPING=1"); }

void NotifyWatchdog() { Notify("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> WatchdogPingInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return std::nullopt;
  }
  return std::chrono::microseconds(usec / 2);
}

std::map<std::string, int> TakeListenSockets() {
  std::map<std::string, int> sockets;
  char** names = nullptr;
  int count = sd_listen_fds_with_names(1, &names);
  for (int i = 0; i < count; ++i) {
    int fd = SD_LISTEN_FDS_START + i;
    std::string name = names != nullptr && names[i] != nullptr ? names[i] : "";
    if (name != "webhook" && name != "admin") {
      name = IsUnixSocket(fd) ? "admin" : "webhook";
    }
    if (!sockets.emplace(name, fd).second) {
      spdlog::warn("systemd passed more than one {} socket; closing the "
                   "extra descriptor {}",
                   name, fd);
      close(fd);
    }
  }
  if (names != nullptr) {
    for (int i = 0; i < count; ++i) {
      free(names[i]);
    }
    free(names);
  }
  return sockets;
}

bool IsUnixSocket(int fd) { return sd_is_socket(fd, AF_UNIX, SOCK_STREAM, 1) > 0; }

}  // namespace terra::daemon::systemd
