// Silence detection: which connections are pulled, when, and only once per
// silence.

#include "daemon/silence_monitor.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

namespace terra::daemon {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using TimePoint = SilenceMonitor::TimePoint;

const TimePoint kStart = TimePoint(std::chrono::seconds(1773100800));

SilenceOptions Options(hours connection_after, hours terra_after) {
  return SilenceOptions{connection_after, terra_after};
}

// Renders pulls as "id@hours-since-start[ terra]" joined by commas.
std::string Render(const std::vector<SilentPull>& pulls) {
  std::string text;
  for (const SilentPull& pull : pulls) {
    text +=
        (text.empty() ? "" : ",") + pull.connection_id + "@" +
        std::to_string(
            std::chrono::duration_cast<hours>(pull.since - kStart).count()) +
        (pull.terra_wide ? " terra" : "");
  }
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(silence_monitor)

BOOST_AUTO_TEST_CASE(quiet_connection_pulled_once) {
  SilenceMonitor monitor(Options(hours(24), hours(0)), kStart);
  monitor.NoteDelivery("a", kStart + hours(1));
  monitor.NoteDelivery("b", kStart + hours(10));
  BOOST_TEST(Render(monitor.Check({"a", "b"}, kStart + hours(24))) == "");
  BOOST_TEST(Render(monitor.Check({"a", "b"}, kStart + hours(25))) == "a@1");
  BOOST_TEST(monitor.silent_connections() == 1u);
  BOOST_TEST(Render(monitor.Check({"a", "b"}, kStart + hours(30))) == "");
  BOOST_TEST(Render(monitor.Check({"a", "b"}, kStart + hours(34))) == "b@10");
  BOOST_TEST(monitor.silent_connections() == 2u);
}

BOOST_AUTO_TEST_CASE(delivery_ends_silence) {
  SilenceMonitor monitor(Options(hours(24), hours(0)), kStart);
  BOOST_TEST(Render(monitor.Check({"a"}, kStart + hours(24))) == "a@0");
  monitor.NoteDelivery("a", kStart + hours(26));
  BOOST_TEST(monitor.silent_connections() == 1u);
  BOOST_TEST(Render(monitor.Check({"a"}, kStart + hours(27))) == "");
  BOOST_TEST(monitor.silent_connections() == 0u);
  BOOST_TEST(Render(monitor.Check({"a"}, kStart + hours(50))) == "a@26");
}

BOOST_AUTO_TEST_CASE(unknown_connection_counts_from_start) {
  SilenceMonitor monitor(Options(hours(24), hours(0)), kStart);
  BOOST_TEST(Render(monitor.Check({"new"}, kStart + minutes(23 * 60 + 59))) ==
             "");
  BOOST_TEST(Render(monitor.Check({"new"}, kStart + hours(24))) == "new@0");
}

BOOST_AUTO_TEST_CASE(no_delivery_at_all_pulls_every_connection) {
  SilenceMonitor monitor(Options(hours(0), hours(6)), kStart);
  monitor.NoteDelivery("a", kStart + hours(1));
  monitor.NoteDelivery("", kStart + hours(2));  // a healthcheck
  BOOST_TEST(Render(monitor.Check({"a", "b"}, kStart + hours(7))) == "");
  BOOST_TEST(Render(monitor.Check({"a", "b"}, kStart + hours(8))) ==
             "a@1 terra,b@0 terra");
  BOOST_TEST(Render(monitor.Check({"a", "b"}, kStart + hours(20))) == "");
  monitor.NoteDelivery("", kStart + hours(21));
  BOOST_TEST(Render(monitor.Check({"a", "b"}, kStart + hours(27))) ==
             "a@1 terra,b@0 terra");
}

BOOST_AUTO_TEST_CASE(zero_thresholds_turn_checks_off) {
  SilenceMonitor monitor(Options(hours(0), hours(0)), kStart);
  BOOST_TEST(Render(monitor.Check({"a"}, kStart + hours(1000))) == "");
  BOOST_TEST(monitor.silent_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(inactive_connections_ignored) {
  SilenceMonitor monitor(Options(hours(24), hours(0)), kStart);
  monitor.NoteDelivery("revoked", kStart);
  BOOST_TEST(Render(monitor.Check({"a"}, kStart + hours(30))) == "a@0");
  BOOST_TEST(monitor.silent_connections() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
