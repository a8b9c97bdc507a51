#include "tools/stop_signals.h"

#include <signal.h>

#include <atomic>

namespace terra::tools {
namespace {

std::atomic<int> stop_signal{0};

void OnStopSignal(int signal_number) {
  int none = 0;
  stop_signal.compare_exchange_strong(none, signal_number);
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return stop_signal.load() != 0; }

int StopSignal() { return stop_signal.load(); }

}  // namespace terra::tools
