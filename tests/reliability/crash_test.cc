// Crash safety through the real daemon: clients send signed deliveries under
// load and record every trace id answered 200, the daemon is killed with
// SIGKILL at a random moment, and after each restart every acknowledged
// delivery must be in the store with all of its records, and no delivery may
// be there with only some of them.

#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "tests/reliability/store_harness.h"
#include "tests/support/http_client.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

namespace json = boost::json;

constexpr char kWebhookPath[] = "/webhooks/terra";

// Kills per run in durable mode: enough random kill points to land inside
// group commits, few enough that both crash cases take about 30 s on two
// shared cores.
constexpr int kDurableRounds = 20;
constexpr int kUnsyncedRounds = 5;

// Concurrent clients, so that groups hold several deliveries at the kill.
constexpr int kClients = 4;

// The kill comes this long after the daemon is ready, uniformly at random.
constexpr int kMinKillDelayMs = 50;
constexpr int kMaxKillDelayMs = 600;

// Bound on the requests of one client in one round, whatever the timing.
constexpr int kMaxRequestsPerClient = 5000;

// Trace id -> sleep_score of the deliveries acknowledged with 200.
using Acknowledged = std::map<std::string, int>;

struct CrashReport {
  int rounds = 0;
  size_t acknowledged = 0;
  size_t lost = 0;     // acknowledged but missing after the restart
  size_t partial = 0;  // in the store with some records missing or wrong
};

// Sends deliveries on one keep-alive connection until `stop` is set or the
// daemon stops answering; adds each one answered 200 to `acknowledged`.
void RunClient(uint16_t port, const std::string& secret,
               const std::string& prefix, const std::atomic<bool>& stop,
               std::mutex* mutex, Acknowledged* acknowledged) {
  HttpConnection connection(port);
  for (int n = 0; n < kMaxRequestsPerClient && !stop; ++n) {
    std::string trace_id = prefix + "-" + std::to_string(n);
    int score = n % 100;
    std::string body = SleepDelivery(trace_id, score);
    HttpResult result = connection.Request(
        "POST", kWebhookPath, SignedHeaders(secret, body, trace_id), body);
    if (result.status == 0) return;  // the daemon is gone
    if (result.status == 200) {
      std::lock_guard lock(*mutex);
      (*acknowledged)[trace_id] = score;
    }
  }
}

// Loads the daemon with kClients clients and kills it after `delay`.
void LoadAndKill(DaemonProcess* daemon, const std::string& secret, int round,
                 std::chrono::milliseconds delay, Acknowledged* acknowledged) {
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    std::string prefix =
        "crash-r" + std::to_string(round) + "-c" + std::to_string(c);
    clients.emplace_back(RunClient, daemon->port(), secret, prefix,
                         std::cref(stop), &mutex, acknowledged);
  }
  std::this_thread::sleep_for(delay);
  daemon->Kill();
  stop = true;
  for (std::thread& client : clients) client.join();
}

// Compares the store with what was acknowledged. Every delivery in the store
// must carry all of its records with the score it was sent with; every
// acknowledged delivery must be in the store.
void CheckStore(StoreHarness& harness, const Acknowledged& acknowledged,
                CrashReport* report) {
  std::map<std::string, int> scores;  // natural id -> stored sleep_score
  for (const json::object& record :
       harness.Dump({"records", "--type", "sleep"})) {
    scores[std::string(record.at("natural_id").as_string())] =
        record.at("item")
            .at_pointer("/data_enrichment/sleep_score")
            .to_number<int>();
  }
  std::map<std::string, std::string> outcomes;  // trace id -> outcome
  for (const json::object& delivery : harness.Dump({"deliveries"})) {
    outcomes[std::string(delivery.at("trace_id").as_string())] =
        std::string(delivery.at("outcome").as_string());
  }

  for (const auto& [trace_id, score] : acknowledged) {
    if (outcomes.count(trace_id) == 0) {
      ++report->lost;
      BOOST_ERROR("acknowledged delivery " << trace_id
                                           << " is not in the store");
    }
  }
  size_t expected_records = 0;
  size_t not_stored = 0;
  for (const auto& [trace_id, outcome] : outcomes) {
    not_stored += outcome == "stored" ? 0 : 1;
    expected_records += kSessionsPerDelivery;
    for (int i = 0; i < kSessionsPerDelivery; ++i) {
      std::string natural_id = trace_id + "/" + std::to_string(i);
      auto found = scores.find(natural_id);
      auto sent = acknowledged.find(trace_id);
      bool wrong = found == scores.end() || (sent != acknowledged.end() &&
                                             found->second != sent->second);
      if (wrong) {
        ++report->partial;
        BOOST_ERROR("delivery " << trace_id << " is stored without a correct "
                                << "record " << natural_id);
        break;
      }
    }
  }
  BOOST_TEST(not_stored == 0u);
  // A record without its delivery would be half of a batch as well.
  BOOST_TEST(scores.size() == expected_records);
}

// Runs `rounds` of start, check, load and SIGKILL over one store, then a
// last start and check.
CrashReport RunCrashRounds(const std::vector<std::string>& daemon_args,
                           int rounds) {
  StoreHarness harness;
  unsigned seed = std::random_device{}();
  BOOST_TEST_MESSAGE("kill delays drawn with seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(kMinKillDelayMs, kMaxKillDelayMs);

  CrashReport report;
  Acknowledged acknowledged;
  for (int round = 0; round < rounds; ++round) {
    std::unique_ptr<DaemonProcess> daemon = harness.StartDaemon(daemon_args);
    BOOST_REQUIRE(daemon != nullptr);
    CheckStore(harness, acknowledged, &report);

    size_t before = acknowledged.size();
    LoadAndKill(daemon.get(), harness.secret(), round,
                std::chrono::milliseconds(delay_ms(rng)), &acknowledged);
    BOOST_TEST(acknowledged.size() > before,
               "round " << round << " acknowledged nothing");
    ++report.rounds;
  }

  std::unique_ptr<DaemonProcess> daemon = harness.StartDaemon(daemon_args);
  BOOST_REQUIRE(daemon != nullptr);
  CheckStore(harness, acknowledged, &report);
  BOOST_TEST(daemon->Stop() == 0);
  report.acknowledged = acknowledged.size();
  return report;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crash)

BOOST_AUTO_TEST_CASE(sigkill_durable_loses_nothing) {
  CrashReport report = RunCrashRounds({}, kDurableRounds);
  BOOST_TEST_MESSAGE("durable mode: " << report.rounds << " SIGKILLs survived, "
                                      << report.acknowledged
                                      << " deliveries acknowledged, "
                                      << report.lost << " lost, "
                                      << report.partial << " partial");
  BOOST_TEST(report.rounds == kDurableRounds);
  BOOST_TEST(report.lost == 0u);
  BOOST_TEST(report.partial == 0u);
}

// Without sync a SIGKILL still loses nothing, because the write-ahead log is
// in the kernel's page cache; only a power loss or kernel crash, which this
// test cannot cause, drops the last acknowledged deliveries.
BOOST_AUTO_TEST_CASE(sigkill_unsynced_reports_losses) {
  CrashReport report =
      RunCrashRounds({"--sync-writes", "false"}, kUnsyncedRounds);
  BOOST_TEST_MESSAGE("unsynced mode: "
                     << report.rounds << " SIGKILLs, " << report.acknowledged
                     << " deliveries acknowledged, " << report.lost << " lost, "
                     << report.partial << " partial");
  BOOST_TEST(report.lost == 0u);
  BOOST_TEST(report.partial == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
