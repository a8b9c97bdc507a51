// The service monitor's timers on an io_context that several threads run,
// as in the daemon: Stop, called from a thread other than the one running
// the timer handlers, ends both timers. The ThreadSanitizer build also
// checks that Stop does not race those handlers.

#include "daemon/service_monitor.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "daemon/webhook_handler.h"
#include "store/committer.h"
#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace terra::daemon {
namespace {

namespace asio = boost::asio;

constexpr int kIoThreads = 4;

}  // namespace

BOOST_AUTO_TEST_SUITE(service_monitor)

BOOST_AUTO_TEST_CASE(stop_from_other_thread_ends_timers) {
  testing::TempDir dir;
  store::StoreOptions options;
  options.path = dir.path().string();
  std::unique_ptr<store::Store> store;
  store::Status status = store::Store::Open(options, &store);
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
  store::Committer committer(store.get(), store::CommitterOptions{});
  WebhookCounters counters;

  // A 1 ms watchdog interval keeps a handler running almost all the time.
  asio::io_context io_context;
  ServiceMonitor monitor(io_context, &committer, &counters,
                         std::chrono::microseconds(1000), [] { return 0; });
  monitor.Start();
  std::atomic<int> returned{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kIoThreads; ++i) {
    threads.emplace_back([&] {
      io_context.run();
      ++returned;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  // run() returns on every thread once no timer is left waiting.
  std::thread([&monitor] { monitor.Stop(); }).join();
  for (int i = 0; i < 100 && returned < kIoThreads; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int returned_after_stop = returned;
  io_context.stop();  // ends a run() that the monitor left waiting
  for (std::thread& thread : threads) {
    thread.join();
  }
  committer.Stop();

  BOOST_TEST(returned_after_stop == kIoThreads);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
