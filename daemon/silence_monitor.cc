#include "daemon/silence_monitor.h"

namespace terra::daemon {

SilenceMonitor::SilenceMonitor(SilenceOptions options, TimePoint start)
    : options_(options), start_(start), any_{start, false} {}

void SilenceMonitor::NoteDelivery(std::string_view connection_id,
                                  TimePoint at) {
  std::lock_guard lock(mutex_);
  any_ = Heard{at, false};
  if (connection_id.empty()) {
    return;
  }
  auto found = connections_.find(connection_id);
  if (found == connections_.end()) {
    connections_.emplace(std::string(connection_id), Heard{at, false});
    return;
  }
  found->second = Heard{at, false};
}

bool SilenceMonitor::IsSilent(TimePoint last, std::chrono::seconds after,
                              TimePoint now) const {
  return after.count() > 0 && now - last >= after;
}

std::vector<SilentPull> SilenceMonitor::Check(
    const std::vector<std::string>& active, TimePoint now) {
  std::lock_guard lock(mutex_);
  std::vector<SilentPull> pulls;

  // No delivery at all: every active connection is pulled once, and their
  // own silences count as pulled.
  bool terra_silent = IsSilent(any_.at, options_.terra_after, now);
  bool pull_all = terra_silent && !any_.pulled;
  if (pull_all) {
    any_.pulled = true;
  }

  silent_ = 0;
  for (const std::string& connection_id : active) {
    auto [entry, inserted] =
        connections_.try_emplace(connection_id, Heard{start_, false});
    Heard& heard = entry->second;
    bool silent = IsSilent(heard.at, options_.connection_after, now);
    silent_ += silent ? 1 : 0;
    if (pull_all || (silent && !heard.pulled)) {
      pulls.push_back(SilentPull{connection_id, heard.at, pull_all});
      heard.pulled = true;
    }
  }
  return pulls;
}

size_t SilenceMonitor::silent_connections() const {
  std::lock_guard lock(mutex_);
  return silent_;
}

SilenceMonitor::TimePoint SilenceMonitor::last_delivery() const {
  std::lock_guard lock(mutex_);
  return any_.at;
}

}  // namespace terra::daemon
