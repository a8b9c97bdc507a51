// s3_payload events through the real daemon: the payload is fetched from its
// pre-signed URL on an HTTPS server with a test CA and applied as the inline
// event, without Terra's API credentials.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fake_terra.h"
#include "tests/support/fixtures.h"
#include "tests/support/test_certs.h"

namespace terra::testing {
namespace {

// An HTTPS server on 127.0.0.1 that serves `payload` for every GET.
struct PayloadServer {
  explicit PayloadServer(std::string payload)
      : ca(dir.path().string()),
        certificate(ca.Issue("payloads", "IP:127.0.0.1")),
        server(certificate.cert_file, certificate.key_file) {
    server.SetHandler([payload = std::move(payload)](const RecordedRequest&) {
      return FakeReply{200, payload, {}, {}};
    });
  }

  // A pre-signed-looking URL on this server.
  std::string Url() const {
    return "https://127.0.0.1:" + std::to_string(server.port()) +
           "/payloads/40f7b0e1/daily-2026-07-01.json?X-Amz-Expires=300&"
           "X-Amz-Signature=ab%2Fcd";
  }

  TempDir dir;
  TestCa ca;
  ServerCertificate certificate;
  FakeTerra server;
};

std::string S3Event(const std::string& url, int expires_in) {
  boost::json::object event{{"type", "s3_payload"},
                            {"status", "success"},
                            {"url", url},
                            {"expires_in", expires_in}};
  return boost::json::serialize(event);
}

// Waits up to `limit` for `count` records to be readable through dump.
bool WaitForRecords(DaemonFixture& daemon, size_t count, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (daemon.Dump({"records"}).size() >= count) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(payload_fetch)

BOOST_AUTO_TEST_CASE(payload_fetched_and_applied) {
  PayloadServer payloads(ReadFixture("daily.json"));
  DaemonFixture daemon({"--terra-ca-file", payloads.ca.ca_file()});

  HttpResult result = daemon.Send(S3Event(payloads.Url(), 300), "s3-1", 1000);
  BOOST_TEST(result.status == 200u);
  BOOST_TEST(result.body == "archived\n");

  BOOST_REQUIRE(WaitForRecords(daemon, 1, std::chrono::seconds(10)));
  auto records = daemon.Dump({"records", "--type", "daily"});
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
  BOOST_TEST(records[0].at("ordering_ms").to_number<int64_t>() == 1000);

  std::vector<RecordedRequest> requests = payloads.server.Requests();
  BOOST_REQUIRE_EQUAL(requests.size(), 1u);
  BOOST_TEST(requests[0].path == "/payloads/40f7b0e1/daily-2026-07-01.json");
  BOOST_TEST(requests[0].Query("X-Amz-Signature") == "ab/cd");
  BOOST_TEST(requests[0].headers.count("x-api-key") == 0u);
  BOOST_TEST(requests[0].headers.count("dev-id") == 0u);
  auto deliveries = daemon.Dump({"deliveries", "--trace-id", "s3-1:payload"});
  BOOST_TEST(deliveries.size() == 1u);
}

BOOST_AUTO_TEST_CASE(expired_url_not_fetched) {
  PayloadServer payloads(ReadFixture("daily.json"));
  DaemonFixture daemon({"--terra-ca-file", payloads.ca.ca_file()});

  // A negative expires_in has passed before the fetch can start.
  HttpResult result = daemon.Send(S3Event(payloads.Url(), -1), "s3-expired");

  BOOST_TEST(result.status == 200u);
  BOOST_TEST(daemon.daemon().WaitForLog("cannot fetch the payload"));
  BOOST_TEST(payloads.server.Requests().empty());
  BOOST_TEST(daemon.Dump({"records"}).empty());
}

BOOST_AUTO_TEST_CASE(untrusted_certificate_refused) {
  PayloadServer payloads(ReadFixture("daily.json"));
  DaemonFixture daemon;  // the payload server's CA is not trusted

  BOOST_TEST(daemon.Send(S3Event(payloads.Url(), 300), "s3-untrusted").status == 200u);

  BOOST_TEST(daemon.daemon().WaitForLog("cannot fetch the payload"));
  BOOST_TEST(daemon.Dump({"records"}).empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
