// The shared budget of request-body bytes in memory.

#include "daemon/body_budget.h"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <vector>

namespace terra::daemon {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// Runs `io` until it has no work, bounded by a time limit.
void RunFor(asio::io_context& io, milliseconds limit) {
  io.restart();
  io.run_for(limit);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(body_budget)

BOOST_AUTO_TEST_CASE(grants_within_capacity) {
  asio::io_context io;
  BodyBudget budget(100);
  std::vector<bool> results;

  budget.Acquire(60, io.get_executor(), milliseconds(1000),
                 [&](bool granted) { results.push_back(granted); });
  budget.Acquire(40, io.get_executor(), milliseconds(1000),
                 [&](bool granted) { results.push_back(granted); });
  RunFor(io, milliseconds(500));

  BOOST_TEST(results == std::vector<bool>({true, true}));
  BOOST_TEST(budget.in_use() == 100u);
}

BOOST_AUTO_TEST_CASE(waiter_granted_on_release) {
  asio::io_context io;
  BodyBudget budget(100);
  std::vector<int> order;

  budget.Acquire(80, io.get_executor(), milliseconds(1000),
                 [&](bool granted) { order.push_back(granted ? 1 : -1); });
  budget.Acquire(50, io.get_executor(), milliseconds(5000),
                 [&](bool granted) { order.push_back(granted ? 2 : -2); });
  RunFor(io, milliseconds(100));
  BOOST_TEST(order == std::vector<int>({1}));
  BOOST_TEST(budget.waiting() == 1u);

  budget.Release(80);
  RunFor(io, milliseconds(500));
  BOOST_TEST(order == std::vector<int>({1, 2}));
  BOOST_TEST(budget.in_use() == 50u);
}

BOOST_AUTO_TEST_CASE(waiter_times_out) {
  asio::io_context io;
  BodyBudget budget(100);
  bool second = true;

  budget.Acquire(100, io.get_executor(), milliseconds(1000), [](bool) {});
  budget.Acquire(1, io.get_executor(), milliseconds(50),
                 [&](bool granted) { second = granted; });
  RunFor(io, milliseconds(2000));

  BOOST_TEST(!second);
  BOOST_TEST(budget.waiting() == 0u);
  BOOST_TEST(budget.in_use() == 100u);
}

BOOST_AUTO_TEST_CASE(larger_than_capacity_refused) {
  asio::io_context io;
  BodyBudget budget(100);
  bool granted = true;
  budget.Acquire(101, io.get_executor(), milliseconds(1000),
                 [&](bool result) { granted = result; });
  RunFor(io, milliseconds(500));
  BOOST_TEST(!granted);
  BOOST_TEST(budget.in_use() == 0u);
}

BOOST_AUTO_TEST_CASE(waiters_served_in_order) {
  asio::io_context io;
  BodyBudget budget(100);
  std::vector<int> order;

  budget.Acquire(100, io.get_executor(), milliseconds(1000), [](bool) {});
  budget.Acquire(90, io.get_executor(), milliseconds(5000),
                 [&](bool granted) { order.push_back(granted ? 90 : -90); });
  // Fits beside the first grant once released, but must not overtake 90.
  budget.Acquire(10, io.get_executor(), milliseconds(5000),
                 [&](bool granted) { order.push_back(granted ? 10 : -10); });
  RunFor(io, milliseconds(100));
  budget.Release(100);
  RunFor(io, milliseconds(500));

  BOOST_TEST(order == std::vector<int>({90, 10}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
