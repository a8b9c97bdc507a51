// Hostile and odd input through the real daemon: each gets the status that
// fits, and afterwards the daemon still stores deliveries, has closed the
// connections it dropped, and has not grown its memory without bound.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Memory the daemon may gain over a hostile run before the test calls it
// unbounded: far above what the requests need once answered (a few MiB of
// allocator caches and a memtable of quarantined bodies), far below what
// keeping their bodies would take.
constexpr long kMaxRssGrowthKib = 64 << 10;

// AddressSanitizer keeps freed memory in a quarantine of 256 MiB (its
// quarantine_size_mb default), so resident memory grows by that much more.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kSanitizerQuarantineKib = 256 << 10;
#else
constexpr long kSanitizerQuarantineKib = 0;
#endif

// ThreadSanitizer adds shadow memory for the memory the daemon uses. Clang's
// ThreadSanitizer documentation gives a typical overhead of 5x to 10x, so the
// bound grows by the lower figure.
#if defined(__SANITIZE_THREAD__)
constexpr long kSanitizerMemoryFactor = 5;
#else
constexpr long kSanitizerMemoryFactor = 1;
#endif

std::string SignedRaw(const std::string& secret, const std::string& extra,
                      const std::string& body) {
  int64_t now = NowSeconds();
  return "POST /webhooks/terra HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
         "terra-signature: t=" +
         std::to_string(now) + ",v1=" + HmacHex(secret, now, body) + "\r\n" +
         extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

// Resident memory of `pid` in KiB, from /proc; 0 if unreadable.
long ResidentKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// The value of the terra_open_connections gauge, or -1.
long OpenConnections(uint16_t admin_port) {
  std::string metrics = Get(admin_port, "/metrics").body;
  const std::string name = "\nterra_open_connections ";
  size_t at = metrics.find(name);
  return at == std::string::npos ? -1
                                 : std::stol(metrics.substr(at + name.size()));
}

// Waits up to 10 s for the open connection gauge to reach `expected`.
bool WaitForOpenConnections(uint16_t admin_port, long expected) {
  for (int i = 0; i < 100; ++i) {
    if (OpenConnections(admin_port) == expected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::unique_ptr<tcp::socket> Connect(asio::io_context& io, uint16_t port) {
  auto socket = std::make_unique<tcp::socket>(io);
  socket->connect({asio::ip::make_address("127.0.0.1"), port});
  return socket;
}

// Returns true if the server has closed `socket` (a read sees end of
// stream or a reset) within `timeout`.
bool ClosedByServer(tcp::socket& socket, std::chrono::milliseconds timeout) {
  socket.non_blocking(true);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char byte;
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code error;
    socket.read_some(asio::buffer(&byte, 1), error);
    if (error == asio::error::eof || error == asio::error::connection_reset) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

const boost::json::object* FindDelivery(
    const std::vector<boost::json::object>& deliveries,
    const std::string& trace_id) {
  for (const auto& delivery : deliveries) {
    if (delivery.at("trace_id").as_string() == trace_id) return &delivery;
  }
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_input)

BOOST_AUTO_TEST_CASE(body_slower_than_read_timeout) {
  DaemonFixture daemon({"--read-timeout", "300ms"});
  std::string body = DailyBody(kUserA, "2026-02-01T00:00:00+00:00", 7);
  std::string request =
      SignedRaw(daemon.secret(), "X-Terra-Trace-Id: slow\r\n", body);
  size_t header_end = request.find("\r\n\r\n") + 4;

  // The header and half the body, then a pause longer than the read timeout.
  asio::io_context io;
  auto socket = Connect(io, daemon.port());
  asio::write(*socket,
              asio::buffer(request.substr(0, header_end + body.size() / 2)));
  BOOST_TEST(ClosedByServer(*socket, std::chrono::seconds(5)));

  BOOST_TEST(daemon.Dump({"deliveries", "--trace-id", "slow"}).empty());
  BOOST_TEST(daemon.Send(body, "after-slow").status == 200u);
}

BOOST_AUTO_TEST_CASE(slow_headers_past_connection_limit) {
  DaemonFixture daemon({"--read-timeout", "500ms", "--idle-timeout", "500ms",
                        "--max-connections", "16"});
  BOOST_REQUIRE(daemon.daemon().admin_port() != 0);
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> slow;
  // Twice the connection limit, each sending a header one line at a time.
  for (int i = 0; i < 32; ++i) {
    auto socket = Connect(io, daemon.port());
    boost::system::error_code ignored;
    asio::write(*socket,
                asio::buffer(std::string("POST /webhooks/terra HTTP/1.1\r\n")),
                ignored);
    slow.push_back(std::move(socket));
  }
  for (int line = 0; line < 10; ++line) {
    for (auto& socket : slow) {
      boost::system::error_code ignored;
      asio::write(*socket, asio::buffer(std::string("X-Slow: 1\r\n")), ignored);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // Every slow connection is closed: the header did not arrive in time, or
  // the limit refused the connection at accept.
  size_t closed = 0;
  for (auto& socket : slow) {
    closed += ClosedByServer(*socket, std::chrono::seconds(3)) ? 1 : 0;
  }
  BOOST_TEST(closed == slow.size());
  BOOST_TEST(WaitForOpenConnections(daemon.daemon().admin_port(), 0));
  BOOST_TEST(daemon
                 .Send(DailyBody(kUserA, "2026-02-02T00:00:00+00:00", 1),
                       "after-slowloris")
                 .status == 200u);
}

BOOST_AUTO_TEST_CASE(odd_bodies_quarantined) {
  DaemonFixture daemon;
  std::string deep =
      "{\"type\":\"daily\",\"data\":" + std::string(100000, '[') +
      std::string(100000, ']') + "}";
  struct Case {
    const char* trace_id;
    std::string body;
    const char* outcome;
  };
  const Case cases[] = {
      {"invalid-utf8",
       "{\"type\":\"daily\",\"user\":{\"user_id\":\"\xff\xfe\"}}",
       "quarantined"},
      {"deep", deep, "quarantined"},
      {"huge-number",
       "{\"type\":\"daily\",\"user\":{\"user_id\":\"u1\"},\"data\":[{"
       "\"metadata\":"
       "{\"start_time\":\"2026-02-03T00:00:00+00:00\"},\"steps\":1e400}]}",
       "quarantined"},
      {"nul-bytes", std::string("{\"type\":\"da\0ily\"}\0", 18), "quarantined"},
  };
  for (const Case& test : cases) {
    HttpResult result = daemon.Send(test.body, test.trace_id);
    BOOST_TEST_CONTEXT(test.trace_id) {
      BOOST_TEST(result.status == 200u);
      BOOST_TEST(result.body == std::string(test.outcome) + "\n");
    }
  }
  auto deliveries = daemon.Dump({"deliveries"});
  const auto* invalid = FindDelivery(deliveries, "invalid-utf8");
  BOOST_REQUIRE(invalid != nullptr);
  // Kept byte for byte: not valid UTF-8, so the dump carries it as base64.
  BOOST_TEST(invalid->at("body_encoding").as_string() == "base64");
  BOOST_TEST(daemon.Dump({"records"}).empty());
}

BOOST_AUTO_TEST_CASE(duplicate_keys_stored_once) {
  DaemonFixture daemon;
  std::string body =
      "{\"type\":\"daily\",\"version\":\"2022-03-16\",\"user\":{\"user_id\":"
      "\"" +
      std::string(kUserA) +
      "\",\"provider\":\"GARMIN\"},\"data\":[{\"metadata\":{\"start_time\":"
      "\"2026-02-04T00:00:00+00:00\",\"end_time\":\"2026-02-04T00:00:00+00:"
      "00\"},"
      "\"distance_data\":{\"steps\":1},\"distance_data\":{\"steps\":2}}]}";
  HttpResult result = daemon.Send(body, "duplicate-keys");
  BOOST_TEST(result.status == 200u);
  auto records = daemon.Dump({"records", "--type", "daily"});
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
  // One of the two values is kept, and a second copy reads the same.
  int64_t steps = records[0]
                      .at("item")
                      .at("distance_data")
                      .at("steps")
                      .to_number<int64_t>();
  BOOST_TEST((steps == 1 || steps == 2));
  BOOST_TEST(daemon.Send(body, "duplicate-keys-2").status == 200u);
  auto again = daemon.Dump({"records", "--type", "daily"});
  BOOST_REQUIRE_EQUAL(again.size(), 1u);
  BOOST_TEST(again[0]
                 .at("item")
                 .at("distance_data")
                 .at("steps")
                 .to_number<int64_t>() == steps);
}

BOOST_AUTO_TEST_CASE(non_ascii_header_values) {
  DaemonFixture daemon;
  std::string body = DailyBody(kUserA, "2026-02-05T00:00:00+00:00", 3);
  // UTF-8 in the trace id and the reference, which Beast passes as obs-text.
  std::string response =
      SendRaw(daemon.port(), SignedRaw(daemon.secret(),
                                       "X-Terra-Trace-Id: tr\xc3\xa9-1\r\n"
                                       "terra-reference: r\xc3\xa9f\r\n",
                                       body));
  BOOST_TEST(FirstStatus(response) == 200u);

  auto deliveries = daemon.Dump({"deliveries"});
  BOOST_REQUIRE_EQUAL(deliveries.size(), 1u);
  BOOST_TEST(deliveries[0].at("trace_id").as_string() == "tr\xc3\xa9-1");
  BOOST_TEST(deliveries[0].at("terra_reference").as_string() == "r\xc3\xa9f");
  BOOST_TEST(daemon.Dump({"records"}).size() == 1u);
  BOOST_TEST(daemon.Send(body, "after-non-ascii").status == 200u);

  // Bytes that are not UTF-8 are stored too, and the archived delivery stays
  // readable: dump prints it rather than skipping it as malformed.
  std::string other = DailyBody(kUserA, "2026-02-07T00:00:00+00:00", 4);
  std::string raw = SendRaw(daemon.port(),
                            SignedRaw(daemon.secret(),
                                      "X-Terra-Trace-Id: bad\xff\xfe-1\r\n", other));
  BOOST_TEST(FirstStatus(raw) == 200u);
  CommandResult dump = RunCommand({TERRA_SYNCCTL_PATH, "dump", "--store",
                                   daemon.store_path(), "deliveries",
                                   "--format", "csv"},
                                  daemon.dir().path().string());
  BOOST_TEST(dump.exit_code == 0);
  BOOST_TEST(dump.out.find("bad\xff\xfe-1") != std::string::npos);
  BOOST_TEST(dump.err.find("malformed") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(repeated_signature_headers) {
  DaemonFixture daemon;
  std::string body = DailyBody(kUserA, "2026-02-06T00:00:00+00:00", 4);
  int64_t now = NowSeconds();
  std::string valid =
      "t=" + std::to_string(now) + ",v1=" + HmacHex(daemon.secret(), now, body);
  std::string wrong =
      "t=" + std::to_string(now) + ",v1=" + std::string(64, 'a');

  HttpResult first_wrong = daemon.SendWith({{"terra-signature", wrong},
                                            {"terra-signature", valid},
                                            {"X-Terra-Trace-Id", "repeated-1"}},
                                           body);
  HttpResult both_wrong = daemon.SendWith({{"terra-signature", wrong},
                                           {"terra-signature", "garbage"},
                                           {"X-Terra-Trace-Id", "repeated-2"}},
                                          body);
  // A t far in the future, signed correctly, is outside the tolerance.
  int64_t future = now + 10LL * 365 * 86400;
  HttpResult far_future = daemon.SendWith(
      {{"terra-signature", "t=" + std::to_string(future) +
                               ",v1=" + HmacHex(daemon.secret(), future, body)},
       {"X-Terra-Trace-Id", "future"}},
      body);
  HttpResult overflow = daemon.SendWith(
      {{"terra-signature",
        "t=999999999999999999999,v1=" + HmacHex(daemon.secret(), now, body)}},
      body);

  BOOST_TEST(first_wrong.status == 200u);
  BOOST_TEST(both_wrong.status == 401u);
  BOOST_TEST(far_future.status == 401u);
  BOOST_TEST(overflow.status == 401u);
  auto deliveries = daemon.Dump({"deliveries"});
  BOOST_TEST(deliveries.size() == 1u);
}

BOOST_AUTO_TEST_CASE(memory_bounded_after_abuse) {
  DaemonFixture daemon({"--max-body-size", "1M", "--read-timeout", "300ms"});
  BOOST_REQUIRE(daemon.daemon().admin_port() != 0);
  for (int i = 0; i < 20; ++i) {
    BOOST_REQUIRE(daemon
                      .Send(DailyBody(kUserA, "2026-02-07T00:00:00+00:00", i),
                            "warm-" + std::to_string(i))
                      .status == 200u);
  }
  long before = ResidentKib(daemon.daemon().pid());
  BOOST_REQUIRE(before > 0);

  // Rounds of oversized, malformed, abandoned and quarantined requests.
  std::string big(900 << 10, 'x');
  for (int round = 0; round < 20; ++round) {
    std::string id = std::to_string(round);
    SendRaw(daemon.port(),
            "POST /webhooks/terra HTTP/1.1\r\nHost: x\r\nContent-Length: "
            "9999999\r\n\r\n",
            std::chrono::seconds(2));
    SendRaw(daemon.port(), "GARBAGE\r\n\r\n", std::chrono::seconds(2));
    HttpResult unsigned_big = daemon.SendWith({}, big);
    BOOST_TEST(unsigned_big.status == 401u);
    HttpResult quarantined = daemon.Send(big, "big-" + id);
    BOOST_TEST(quarantined.status == 200u);
    asio::io_context io;
    auto abandoned = Connect(io, daemon.port());
    asio::write(
        *abandoned,
        asio::buffer(std::string("POST /webhooks/terra HTTP/1.1\r\n"
                                 "Host: x\r\nContent-Length: 1000000\r\n\r\n") +
                     std::string(500 << 10, '{')));
  }

  BOOST_TEST(WaitForOpenConnections(daemon.daemon().admin_port(), 0));
  long after = ResidentKib(daemon.daemon().pid());
  BOOST_TEST_MESSAGE("daemon resident memory " << before << " KiB before, "
                                               << after << " KiB after");
  BOOST_TEST(after - before < kMaxRssGrowthKib * kSanitizerMemoryFactor +
                                 kSanitizerQuarantineKib);
  BOOST_TEST(daemon
                 .Send(DailyBody(kUserA, "2026-02-08T00:00:00+00:00", 1),
                       "after-abuse")
                 .status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
