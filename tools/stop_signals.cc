#include "tools/stop_signals.h"

#include <signal.h>

#include <atomic>

namespace terra::tools {
namespace {

std::atomic<int> stop_signal{0};

// Sets the flag on the first stop signal. A second one ends the process at
// once, as without a handler, because a process that waits on input never
// checks the flag.
void OnStopSignal(int signal_number) {
  int none = 0;
  if (!stop_signal.compare_exchange_strong(none, signal_number)) {
    signal(signal_number, SIG_DFL);
    raise(signal_number);
  }
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
