// Which days the nightly reconciliation pulls, given the connections'
// states and checkpoints.

#include "daemon/reconcile_planner.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

namespace terra::daemon {
namespace {

std::chrono::sys_days Day(const std::string& text) {
  std::chrono::sys_days day;
  BOOST_REQUIRE_MESSAGE(ParseDate(text, &day), text);
  return day;
}

ReconcileCandidate Candidate(const std::string& id, const std::string& state,
                             const std::string& checkpoint = "") {
  ReconcileCandidate candidate{id, "user-" + id, state, std::nullopt};
  if (!checkpoint.empty()) {
    candidate.checkpoint = Day(checkpoint);
  }
  return candidate;
}

// Renders tasks as "id start..end" lines, so each check is one comparison.
std::string Render(const std::vector<ReconcileTask>& tasks) {
  std::string text;
  for (const ReconcileTask& task : tasks) {
    text += task.connection_id + " " + FormatDate(task.range.start) + ".." +
            FormatDate(task.range.end) + "\n";
  }
  return text;
}

std::string Plan(const std::vector<ReconcileCandidate>& candidates,
                 const std::string& today,
                 ReconcilePlannerOptions options = {}) {
  return Render(PlanReconciliation(candidates, Day(today), options));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reconcile_planner)

BOOST_AUTO_TEST_CASE(previous_day_only) {
  ReconcilePlannerOptions options;
  options.look_back_days = 1;
  BOOST_TEST(Plan({Candidate("a", "active", "2026-03-10")}, "2026-03-11",
                  options) == "a 2026-03-10..2026-03-11\n");
}

BOOST_AUTO_TEST_CASE(default_look_back) {
  BOOST_TEST(Plan({Candidate("a", "active")}, "2026-03-11") ==
             "a 2026-03-09..2026-03-11\n");
  BOOST_TEST(Plan({Candidate("a", "active", "2026-03-11")}, "2026-03-11") ==
             "a 2026-03-09..2026-03-11\n");
}

BOOST_AUTO_TEST_CASE(skips_revoked_and_merged) {
  BOOST_TEST(Plan({Candidate("a", "active"), Candidate("r", "revoked"),
                   Candidate("m", "merged"), Candidate("b", "")},
                  "2026-03-11") ==
             "a 2026-03-09..2026-03-11\nb 2026-03-09..2026-03-11\n");
}

BOOST_AUTO_TEST_CASE(catches_up_missed_nights) {
  // The last run ended on 03-08: three nights (03-09, 03-10, 03-11) were
  // missed, and the run on 03-12 pulls all four days.
  BOOST_TEST(Plan({Candidate("a", "active", "2026-03-08")}, "2026-03-12") ==
             "a 2026-03-08..2026-03-12\n");
}

BOOST_AUTO_TEST_CASE(catch_up_capped_at_28_days) {
  BOOST_TEST(Plan({Candidate("a", "active", "2025-12-01")}, "2026-03-12") ==
             "a 2026-02-12..2026-03-12\n");
}

BOOST_AUTO_TEST_CASE(error_retried_every_nth_night) {
  ReconcilePlannerOptions options;
  options.error_every_nights = 3;
  BOOST_TEST(Plan({Candidate("e", "error", "2026-03-10")}, "2026-03-11",
                  options) == "");
  BOOST_TEST(Plan({Candidate("e", "error", "2026-03-10")}, "2026-03-12",
                  options) == "");
  BOOST_TEST(Plan({Candidate("e", "error", "2026-03-10")}, "2026-03-13",
                  options) == "e 2026-03-10..2026-03-13\n");
  BOOST_TEST(Plan({Candidate("e", "error")}, "2026-03-13", options) ==
             "e 2026-03-11..2026-03-13\n");
}

BOOST_AUTO_TEST_CASE(across_month_and_year) {
  BOOST_TEST(Plan({Candidate("a", "active", "2025-12-30")}, "2026-01-02") ==
             "a 2025-12-30..2026-01-02\n");
}

BOOST_AUTO_TEST_CASE(checkpoint_key_names_connection) {
  BOOST_TEST(ReconcileCheckpointKey("c1") == "reconcile_checkpoint/c1");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
