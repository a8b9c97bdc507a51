// The whole-request deadline (`request-timeout`) through the real daemon: a
// sender that keeps every read alive with a trickle of bytes gets 408 once
// the deadline passes, while a slow upload that finishes in time is stored.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <thread>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fixtures.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// What a slow sender saw.
struct SlowSendResult {
  std::string response;  // every byte the server sent back
  bool closed = false;   // the server closed the connection
  milliseconds closed_after{0};  // from the first byte sent to the close
  size_t bytes_sent = 0;
};

// Appends what `socket` has ready to `out`. Returns true once the server has
// closed the connection (end of stream or a reset).
bool ReadReady(tcp::socket& socket, std::string* out) {
  char chunk[4096];
  for (int i = 0; i < 64; ++i) {
    boost::system::error_code error;
    size_t count = socket.read_some(asio::buffer(chunk), error);
    out->append(chunk, count);
    if (error == asio::error::would_block) {
      return false;
    }
    if (error) {
      return true;
    }
  }
  return false;
}

// Sends the first `head_size` bytes of `bytes` at once and the rest in
// pieces of `piece_size`, `interval` apart. Reads the response as it
// arrives, until the server closes the connection or `limit` passes.
SlowSendResult SendSlowly(uint16_t port, const std::string& bytes,
                          size_t head_size, size_t piece_size,
                          milliseconds interval, milliseconds limit) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  socket.non_blocking(true);

  SlowSendResult result;
  steady_clock::time_point start = steady_clock::now();
  while (steady_clock::now() - start < limit) {
    if (result.bytes_sent < bytes.size()) {
      size_t next = result.bytes_sent == 0 ? std::max(head_size, piece_size)
                                           : piece_size;
      size_t size = std::min(next, bytes.size() - result.bytes_sent);
      boost::system::error_code ignored;  // a closed socket shows in the read
      result.bytes_sent += socket.write_some(
          asio::buffer(bytes.data() + result.bytes_sent, size), ignored);
    }
    if (ReadReady(socket, &result.response)) {
      result.closed = true;
      break;
    }
    std::this_thread::sleep_for(interval);
  }
  result.closed_after =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  return result;
}

// A signed webhook request with `trace_id`, closing the connection after it.
std::string SignedRequest(const std::string& secret, const std::string& body,
                          const std::string& trace_id) {
  int64_t now = NowSeconds();
  return "POST /webhooks/terra HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "Connection: close\r\nterra-signature: t=" +
         std::to_string(now) + ",v1=" + HmacHex(secret, now, body) +
         "\r\nX-Terra-Trace-Id: " + trace_id +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

// A body of about 12 KiB, which one byte every 100 ms would take 20 minutes
// to send.
std::string LargeBody(const std::string& start_time) {
  std::string body = DailyBody(kUserA, start_time, 1);
  return body.substr(0, body.size() - 1) + ",\"padding\":\"" +
         std::string(12 << 10, 'p') + "\"}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_timeout)

BOOST_AUTO_TEST_CASE(trickled_body_gets_408) {
  DaemonFixture daemon({"--read-timeout", "1s", "--request-timeout", "2s"});
  std::string request = SignedRequest(
      daemon.secret(), LargeBody("2026-03-01T00:00:00+00:00"), "trickle");

  size_t header_size = request.find("\r\n\r\n") + 4;

  SlowSendResult result = SendSlowly(daemon.port(), request, header_size, 1,
                                     milliseconds(100), std::chrono::seconds(10));

  BOOST_TEST(result.closed);
  BOOST_TEST(FirstStatus(result.response) == 408u);
  BOOST_TEST(result.response.find("within 2 s") != std::string::npos,
             "response: " << result.response);
  // Not before the deadline, and not much after it (sanitizer builds are
  // slow, so the margin is wide).
  BOOST_TEST(result.closed_after.count() >= 1900);
  BOOST_TEST(result.closed_after.count() < 5000);
  BOOST_TEST(result.bytes_sent < request.size());
  BOOST_TEST(daemon.Dump({"deliveries"}).empty());
  BOOST_TEST(daemon.Send(DailyBody(kUserA, "2026-03-02T00:00:00+00:00", 1),
                         "after-trickle")
                 .status == 200u);
}

BOOST_AUTO_TEST_CASE(trickled_header_gets_408) {
  // The header alone has the read timeout, so a request timeout below it
  // must end a header that is still arriving.
  DaemonFixture daemon({"--read-timeout", "10s", "--request-timeout", "1s"});
  std::string request = SignedRequest(
      daemon.secret(), DailyBody(kUserA, "2026-03-03T00:00:00+00:00", 1),
      "trickled-header");

  SlowSendResult result = SendSlowly(daemon.port(), request, 0, 1,
                                     milliseconds(50), std::chrono::seconds(8));

  BOOST_TEST(result.closed);
  BOOST_TEST(FirstStatus(result.response) == 408u);
  BOOST_TEST(result.closed_after.count() < 4000);
  BOOST_TEST(daemon.Dump({"deliveries"}).empty());
}

BOOST_AUTO_TEST_CASE(slow_upload_within_deadline_stored) {
  DaemonFixture daemon({"--read-timeout", "1s", "--request-timeout", "4s"});
  std::string body = LargeBody("2026-03-04T00:00:00+00:00");
  std::string request = SignedRequest(daemon.secret(), body, "slow-upload");

  // 16 pieces 150 ms apart: about 2.4 s in all, longer than one read
  // timeout, shorter than the request timeout.
  size_t piece_size = request.size() / 16 + 1;
  SlowSendResult result = SendSlowly(daemon.port(), request, 0, piece_size,
                                     milliseconds(150), std::chrono::seconds(10));

  BOOST_TEST(result.bytes_sent == request.size());
  BOOST_TEST(result.closed);
  BOOST_TEST(FirstStatus(result.response) == 200u, "response: " << result.response);
  BOOST_TEST(result.closed_after.count() > 1000);
  auto deliveries = daemon.Dump({"deliveries", "--trace-id", "slow-upload"});
  BOOST_TEST(deliveries.size() == 1u);
  BOOST_TEST(daemon.Dump({"records"}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(reload_applies_request_timeout) {
  TempDir config_dir;
  std::string config_path = config_dir.Sub("terra-syncd.conf");
  WriteFile(config_path, "read-timeout = 5s\nrequest-timeout = 60s\n");
  DaemonFixture daemon({"--config", config_path});

  WriteFile(config_path, "read-timeout = 5s\nrequest-timeout = 1s\n");
  daemon.daemon().Signal(SIGHUP);
  BOOST_REQUIRE(daemon.daemon().WaitForLog("configuration reloaded"));

  std::string request = SignedRequest(
      daemon.secret(), LargeBody("2026-03-05T00:00:00+00:00"), "after-reload");
  size_t header_size = request.find("\r\n\r\n") + 4;
  SlowSendResult result = SendSlowly(daemon.port(), request, header_size, 1,
                                     milliseconds(100), std::chrono::seconds(8));
  BOOST_TEST(result.closed);
  BOOST_TEST(FirstStatus(result.response) == 408u);
  BOOST_TEST(result.response.find("within 1 s") != std::string::npos,
             "response: " << result.response);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
