// HTTP framing and limits of the webhook listener, through the real daemon:
// each misuse gets the status that says what was wrong, and the daemon keeps
// serving afterwards.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

std::string RawPost(const std::string& extra_headers, const std::string& body) {
  return std::string("POST /webhooks/terra HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
         extra_headers + "\r\n" + body;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_limits)

BOOST_AUTO_TEST_CASE(unknown_path_and_method) {
  DaemonFixture daemon;

  HttpResult wrong_path = Post(daemon.port(), "/other", {}, "{}");
  HttpResult wrong_method = Get(daemon.port(), kWebhookPath);
  HttpResult with_query = daemon.SendWith({}, "{}");

  BOOST_TEST(wrong_path.status == 404u);
  BOOST_TEST(wrong_method.status == 405u);
  BOOST_TEST(with_query.status == 401u);
}

BOOST_AUTO_TEST_CASE(length_required) {
  DaemonFixture daemon;
  std::string response = SendRaw(daemon.port(), RawPost("", "{}"));
  BOOST_TEST(FirstStatus(response) == 411u);
}

BOOST_AUTO_TEST_CASE(header_too_large) {
  DaemonFixture daemon({"--max-header-size", "4K"});
  std::string big = "X-Padding: " + std::string(8192, 'a') + "\r\n";
  std::string response =
      SendRaw(daemon.port(), RawPost(big + "Content-Length: 2\r\n", "{}"));
  BOOST_TEST(FirstStatus(response) == 431u);
}

BOOST_AUTO_TEST_CASE(declared_length_too_large) {
  DaemonFixture daemon({"--max-body-size", "1K"});
  // The 413 comes from the declared length alone, before any body byte.
  std::string response =
      SendRaw(daemon.port(), RawPost("Content-Length: 999999999\r\n", ""));
  BOOST_TEST(FirstStatus(response) == 413u);
}

BOOST_AUTO_TEST_CASE(chunked_body_over_limit) {
  DaemonFixture daemon({"--max-body-size", "1K"});
  std::string chunk(800, 'x');
  std::string body = "320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n";
  std::string response = SendRaw(
      daemon.port(), RawPost("Transfer-Encoding: chunked\r\n", body));
  BOOST_TEST(FirstStatus(response) == 413u);
  BOOST_TEST(daemon.Dump({"records"}).empty());
}

BOOST_AUTO_TEST_CASE(chunked_body_accepted) {
  DaemonFixture daemon;
  std::string body = DailyBody(kUserA, "2026-01-10T00:00:00+00:00", 5);
  int64_t now = NowSeconds();
  std::string signature =
      "terra-signature: t=" + std::to_string(now) + ",v1=" +
      HmacHex(daemon.secret(), now, body) + "\r\n";
  std::string half = body.substr(0, body.size() / 2);
  std::string rest = body.substr(body.size() / 2);
  auto hex = [](size_t n) {
    char text[32];
    snprintf(text, sizeof(text), "%zx", n);
    return std::string(text);
  };
  std::string chunked = hex(half.size()) + "\r\n" + half + "\r\n" +
                        hex(rest.size()) + "\r\n" + rest + "\r\n0\r\n\r\n";
  std::string response = SendRaw(
      daemon.port(), RawPost(signature + "Transfer-Encoding: chunked\r\n"
                                         "X-Terra-Trace-Id: chunked-1\r\n"
                                         "Connection: close\r\n",
                             chunked));
  BOOST_TEST(FirstStatus(response) == 200u);
  BOOST_TEST(daemon.Dump({"records"}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(transfer_coding_not_chunked_rejected) {
  DaemonFixture daemon;
  // Signed over the chunk-decoded bytes, so that a daemon which ignored the
  // gzip coding would verify the signature, store the body and return 200.
  std::string body = DailyBody(kUserA, "2026-01-17T00:00:00+00:00", 8);
  int64_t now = NowSeconds();
  std::string signature = "terra-signature: t=" + std::to_string(now) +
                          ",v1=" + HmacHex(daemon.secret(), now, body) + "\r\n";
  char size[32];
  snprintf(size, sizeof(size), "%zx", body.size());
  std::string chunked = std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  struct Case {
    const char* name;
    std::string headers;
    std::string body;
  };
  const Case cases[] = {
      {"gzip then chunked", "Transfer-Encoding: gzip, chunked\r\n", chunked},
      {"gzip alone", "Transfer-Encoding: gzip\r\n", body},
      {"two fields", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
       chunked},
      {"upper case", "Transfer-Encoding: DEFLATE, Chunked\r\n", chunked},
  };
  for (const Case& test : cases) {
    std::string response = SendRaw(
        daemon.port(), RawPost(signature + test.headers +
                                   "X-Terra-Trace-Id: coded\r\n",
                               test.body));
    BOOST_TEST_CONTEXT(test.name) {
      BOOST_TEST(FirstStatus(response) == 501u);
      BOOST_TEST(response.find("only Transfer-Encoding supported is chunked") !=
                 std::string::npos);
      BOOST_TEST(response.find("Connection: close") != std::string::npos);
    }
  }
  BOOST_TEST(daemon.Dump({"deliveries"}).empty());
  BOOST_TEST(daemon.Dump({"records"}).empty());
  BOOST_TEST(daemon.Send(body, "after-coded").status == 200u);
}

BOOST_AUTO_TEST_CASE(expect_continue_answered) {
  DaemonFixture daemon;
  std::string body = DailyBody(kUserA, "2026-01-11T00:00:00+00:00", 6);
  int64_t now = NowSeconds();
  std::string headers = "terra-signature: t=" + std::to_string(now) + ",v1=" +
                        HmacHex(daemon.secret(), now, body) + "\r\n" +
                        "Expect: 100-continue\r\nConnection: close\r\n" +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n";
  std::string response = SendRaw(daemon.port(), RawPost(headers, body));
  BOOST_TEST(FirstStatus(response) == 100u);
  BOOST_TEST(response.find("HTTP/1.1 200 OK") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests) {
  DaemonFixture daemon;
  HttpConnection connection(daemon.port());
  for (int i = 0; i < 5; ++i) {
    std::string body = DailyBody(kUserA, "2026-01-2" + std::to_string(i) +
                                             "T00:00:00+00:00", i);
    auto headers = SignedHeaders(daemon.secret(), body, "keep-" + std::to_string(i));
    HttpResult result = connection.Request("POST", kWebhookPath, headers, body);
    BOOST_TEST(result.status == 200u);
    BOOST_TEST(result.keep_alive);
  }
  BOOST_TEST(daemon.Dump({"records"}).size() == 5u);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_answered_in_order) {
  DaemonFixture daemon;
  std::string raw;
  for (int i = 0; i < 3; ++i) {
    std::string body = DailyBody(kUserA, "2026-01-0" + std::to_string(i + 1) +
                                             "T00:00:00+00:00", i);
    int64_t now = NowSeconds();
    raw += RawPost("terra-signature: t=" + std::to_string(now) + ",v1=" +
                       HmacHex(daemon.secret(), now, body) + "\r\n" +
                       "X-Terra-Trace-Id: pipe-" + std::to_string(i) + "\r\n" +
                       (i == 2 ? "Connection: close\r\n" : "") +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n",
                   body);
  }
  std::string response = SendRaw(daemon.port(), raw);
  size_t count = 0;
  for (size_t at = response.find("HTTP/1.1 200"); at != std::string::npos;
       at = response.find("HTTP/1.1 200", at + 1)) {
    ++count;
  }
  BOOST_TEST(count == 3u);
  BOOST_TEST(daemon.Dump({"records"}).size() == 3u);
}

BOOST_AUTO_TEST_CASE(idle_connection_closed) {
  DaemonFixture daemon({"--idle-timeout", "300ms", "--read-timeout", "300ms"});
  auto start = std::chrono::steady_clock::now();
  // A partial header never completed: the server closes it after the read
  // timeout instead of holding it open.
  std::string response = SendRaw(
      daemon.port(), "POST /webhooks/terra HTTP/1.1\r\nHost: x\r\n",
      std::chrono::seconds(10));
  auto elapsed = std::chrono::steady_clock::now() - start;
  BOOST_TEST(response.empty());
  BOOST_TEST(elapsed < std::chrono::seconds(5));
  HttpResult after = daemon.Send(DailyBody(kUserA, "2026-01-12T00:00:00+00:00", 1), "after");
  BOOST_TEST(after.status == 200u);
}

BOOST_AUTO_TEST_CASE(empty_body_answered_at_once) {
  DaemonFixture daemon;
  auto start = std::chrono::steady_clock::now();
  HttpResult unsigned_empty = daemon.SendWith({}, "");
  HttpResult signed_empty = daemon.Send("", "empty-1");
  auto elapsed = std::chrono::steady_clock::now() - start;

  BOOST_TEST(unsigned_empty.status == 401u);
  BOOST_TEST(signed_empty.status == 200u);
  BOOST_TEST(signed_empty.body == "quarantined\n");
  BOOST_TEST(elapsed < std::chrono::seconds(5));
}

BOOST_AUTO_TEST_CASE(head_response_has_no_body) {
  DaemonFixture daemon;
  std::string body = DailyBody(kUserA, "2026-01-14T00:00:00+00:00", 1);
  int64_t now = NowSeconds();
  // A HEAD followed by a pipelined POST: if the 405 carried a body, the POST's
  // response would be read from the middle of it.
  std::string raw =
      "HEAD /webhooks/terra HTTP/1.1\r\nHost: x\r\n\r\n" +
      RawPost("terra-signature: t=" + std::to_string(now) + ",v1=" +
                  HmacHex(daemon.secret(), now, body) + "\r\n" +
                  "Connection: close\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n",
              body);
  std::string response = SendRaw(daemon.port(), raw);
  size_t second = response.find("HTTP/1.1", 1);
  BOOST_TEST(FirstStatus(response) == 405u);
  BOOST_REQUIRE(second != std::string::npos);
  BOOST_TEST(response.find("method not allowed") == std::string::npos);
  BOOST_TEST(FirstStatus(response.substr(second)) == 200u);
}

BOOST_AUTO_TEST_CASE(absolute_form_target_accepted) {
  DaemonFixture daemon;
  std::string body = DailyBody(kUserA, "2026-01-15T00:00:00+00:00", 1);
  auto headers = SignedHeaders(daemon.secret(), body, "absolute-1");
  HttpResult result =
      Post(daemon.port(), "http://127.0.0.1/webhooks/terra", headers, body);
  BOOST_TEST(result.status == 200u);
}

BOOST_AUTO_TEST_CASE(missing_host_rejected) {
  DaemonFixture daemon;
  std::string response = SendRaw(
      daemon.port(),
      "POST /webhooks/terra HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
  BOOST_TEST(FirstStatus(response) == 400u);
}

BOOST_AUTO_TEST_CASE(http10_keep_alive_honoured) {
  DaemonFixture daemon;
  std::string response = SendRaw(
      daemon.port(),
      "GET /webhooks/terra HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      std::chrono::seconds(2));
  BOOST_TEST(response.find("HTTP/1.0 405") == 0u);
  BOOST_TEST(response.find("Connection: keep-alive") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(stalled_large_bodies_do_not_block) {
  DaemonFixture daemon({"--max-body-size", "8M", "--max-inflight-body-size",
                        "8M", "--inflight-wait", "2s"});
  // Senders that declare the largest body and then stall reserve only what
  // they have sent plus one step, so a real delivery still gets through.
  boost::asio::io_context io;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> stalled;
  for (int i = 0; i < 8; ++i) {
    auto socket = std::make_unique<boost::asio::ip::tcp::socket>(io);
    socket->connect({boost::asio::ip::make_address("127.0.0.1"), daemon.port()});
    std::string start =
        "POST /webhooks/terra HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608"
        "\r\n\r\n{";
    boost::asio::write(*socket, boost::asio::buffer(start));
    stalled.push_back(std::move(socket));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  HttpResult real = daemon.Send(DailyBody(kUserA, "2026-01-16T00:00:00+00:00", 1),
                                "real-1");
  BOOST_TEST(real.status == 200u);
}

BOOST_AUTO_TEST_CASE(sigterm_exits_cleanly) {
  DaemonFixture daemon;
  BOOST_TEST(daemon.Send(DailyBody(kUserA, "2026-01-13T00:00:00+00:00", 1), "t").status ==
             200u);
  HttpConnection idle(daemon.port());  // an idle keep-alive connection
  BOOST_TEST(daemon.daemon().Stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
