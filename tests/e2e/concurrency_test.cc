// Concurrent senders against the real daemon: copies of one delivery apply
// once, the connection limit holds, and the body memory budget returns 503
// rather than waiting forever.

#include <boost/test/unit_test.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

namespace asio = boost::asio;

// Opens `count` connections to the daemon and keeps them open.
std::vector<std::unique_ptr<asio::ip::tcp::socket>> OpenConnections(
    asio::io_context& io, uint16_t port, int count) {
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> sockets;
  for (int i = 0; i < count; ++i) {
    auto socket = std::make_unique<asio::ip::tcp::socket>(io);
    socket->connect({asio::ip::make_address("127.0.0.1"), port});
    sockets.push_back(std::move(socket));
  }
  return sockets;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(concurrent_copies_apply_once) {
  DaemonFixture daemon;
  constexpr int kCopies = 16;
  std::string body = DailyBody(kUserA, "2026-05-01T00:00:00+00:00", 77);
  auto headers = SignedHeaders(daemon.secret(), body, "same-delivery", 1000);

  std::vector<HttpResult> results(kCopies);
  std::vector<std::thread> senders;
  for (int i = 0; i < kCopies; ++i) {
    senders.emplace_back([&, i] {
      results[i] = Post(daemon.port(), kWebhookPath, headers, body);
    });
  }
  for (auto& sender : senders) {
    sender.join();
  }

  int stored = 0;
  int duplicates = 0;
  for (const HttpResult& result : results) {
    BOOST_TEST(result.status == 200u);
    stored += result.body == "stored\n";
    duplicates += result.body == "duplicate delivery, already stored\n";
  }
  BOOST_TEST(stored == 1);
  BOOST_TEST(duplicates == kCopies - 1);
  auto records = daemon.Dump({"records"});
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
}

BOOST_AUTO_TEST_CASE(connection_limit_closes_extra) {
  DaemonFixture daemon({"--max-connections", "4"});
  asio::io_context io;
  auto open_connections = OpenConnections(io, daemon.port(), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  // A fifth connection is accepted and closed at once: a request on it
  // gets no response.
  std::string response = SendRaw(daemon.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                 std::chrono::seconds(5));
  BOOST_TEST(response.empty());

  open_connections.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  HttpResult after = daemon.Send(DailyBody(kUserA, "2026-05-02T00:00:00+00:00", 1), "ok");
  BOOST_TEST(after.status == 200u);
  BOOST_TEST(daemon.daemon().Log().find("connection limit reached") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(body_budget_exhausted_gets_503) {
  DaemonFixture daemon({"--max-body-size", "4K", "--max-inflight-body-size", "4K",
                        "--inflight-wait", "300ms"});
  asio::io_context io;
  auto holder = OpenConnections(io, daemon.port(), 1);
  // Declares a 4000-byte body and sends only part of it, which reserves the
  // whole budget while the body is being read.
  std::string partial =
      "POST /webhooks/terra HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n{";
  asio::write(*holder[0], asio::buffer(partial));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  std::string body = DailyBody(kUserA, "2026-05-03T00:00:00+00:00", 1);
  HttpResult waiting = daemon.Send(body, "waits");
  BOOST_TEST(waiting.status == 503u);
  BOOST_TEST(waiting.body.find("retry later") != std::string::npos);

  holder.clear();  // the partial request ends, and its bytes return
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  BOOST_TEST(daemon.Send(body, "after").status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
