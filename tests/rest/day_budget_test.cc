// The per-user day budget of Terra's REST rate limit, on a fake clock.

#include "daemon/day_budget.h"

#include <boost/test/unit_test.hpp>

namespace terra::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const DayBudget::TimePoint kStart{std::chrono::hours(1000)};

DayBudget SmallBudget() {
  return DayBudget({.days_per_window = 100, .window = std::chrono::hours(1)});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(day_budget)

BOOST_AUTO_TEST_CASE(reserves_within_budget) {
  DayBudget budget = SmallBudget();
  BOOST_TEST(budget.Reserve("u", 60, kStart).count() == 0);
  BOOST_TEST(budget.Reserve("u", 40, kStart).count() == 0);
  BOOST_TEST(budget.Used("u", kStart) == 100);
}

BOOST_AUTO_TEST_CASE(waits_for_oldest_to_expire) {
  DayBudget budget = SmallBudget();
  BOOST_TEST(budget.Reserve("u", 60, kStart).count() == 0);
  BOOST_TEST(budget.Reserve("u", 30, kStart + minutes(10)).count() == 0);
  milliseconds wait = budget.Reserve("u", 28, kStart + minutes(20));
  // The first charge (60 days) must leave the window: 40 minutes and 1 ms.
  BOOST_TEST(wait.count() == (minutes(40) + milliseconds(1)).count());
  BOOST_TEST(budget.Used("u", kStart + minutes(20)) == 90);
  BOOST_TEST(budget.Reserve("u", 28, kStart + minutes(20) + wait).count() == 0);
}

BOOST_AUTO_TEST_CASE(users_are_independent) {
  DayBudget budget = SmallBudget();
  BOOST_TEST(budget.Reserve("a", 100, kStart).count() == 0);
  BOOST_TEST(budget.Reserve("a", 1, kStart).count() > 0);
  BOOST_TEST(budget.Reserve("b", 100, kStart).count() == 0);
}

BOOST_AUTO_TEST_CASE(oversized_request_admitted_alone) {
  DayBudget budget = SmallBudget();
  BOOST_TEST(budget.Reserve("u", 500, kStart).count() == 0);
  BOOST_TEST(budget.Reserve("u", 1, kStart).count() > 0);
}

BOOST_AUTO_TEST_CASE(pause_holds_requests) {
  DayBudget budget = SmallBudget();
  budget.Pause("u", seconds(30), kStart);
  BOOST_TEST(budget.Reserve("u", 1, kStart).count() == 30000);
  BOOST_TEST(budget.Reserve("u", 1, kStart + seconds(10)).count() == 20000);
  BOOST_TEST(budget.Reserve("u", 1, kStart + seconds(30)).count() == 0);
  BOOST_TEST(budget.Reserve("other", 1, kStart).count() == 0);
}

BOOST_AUTO_TEST_CASE(server_remaining_paces) {
  DayBudget budget = SmallBudget();
  budget.Observe("u", 10, seconds(90), kStart);
  BOOST_TEST(budget.Reserve("u", 8, kStart).count() == 0);
  BOOST_TEST(budget.Reserve("u", 8, kStart + seconds(1)).count() == 89000);
  BOOST_TEST(budget.Reserve("u", 8, kStart + seconds(90)).count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
