// Signature verification through the real daemon: every rejection is a 401
// and stores nothing; every accepted form stores the delivery.

#include <boost/test/unit_test.hpp>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fixtures.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

std::string Body() { return DailyBody(kUserA, "2026-02-01T00:00:00+00:00", 42); }

std::string SignatureValue(const std::string& secret, int64_t t, const std::string& body) {
  return "t=" + std::to_string(t) + ",v1=" + HmacHex(secret, t, body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signatures)

BOOST_AUTO_TEST_CASE(rejections_store_nothing) {
  DaemonFixture daemon;
  std::string body = Body();
  int64_t now = NowSeconds();
  std::string changed = body;
  changed[changed.find("42")] = '5';  // one byte of the body changed

  struct Case {
    const char* name;
    std::vector<Header> headers;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"missing", {{"X-Terra-Trace-Id", "a"}}, body},
      {"empty", {{"terra-signature", ""}}, body},
      {"malformed", {{"terra-signature", "garbage"}}, body},
      {"no v1", {{"terra-signature", "t=" + std::to_string(now)}}, body},
      {"no t", {{"terra-signature", "v1=" + HmacHex(daemon.secret(), now, body)}}, body},
      {"short digest", {{"terra-signature", "t=" + std::to_string(now) + ",v1=abc"}}, body},
      {"wrong secret", {{"terra-signature", SignatureValue("another-secret", now, body)}}, body},
      {"too old", {{"terra-signature", SignatureValue(daemon.secret(), now - 301, body)}}, body},
      {"too far ahead", {{"terra-signature", SignatureValue(daemon.secret(), now + 3600, body)}}, body},
      {"body changed", {{"terra-signature", SignatureValue(daemon.secret(), now, body)}}, changed},
      {"t changed",
       {{"terra-signature",
         "t=" + std::to_string(now - 1) + ",v1=" + HmacHex(daemon.secret(), now, body)}},
       body},
  };
  for (const Case& test : cases) {
    HttpResult result = daemon.SendWith(test.headers, test.body);
    BOOST_TEST_CONTEXT(test.name) {
      BOOST_TEST(result.status == 401u);
      BOOST_TEST(result.body.find("signature") != std::string::npos);
      BOOST_TEST(result.body.find(daemon.secret()) == std::string::npos);
    }
  }
  BOOST_TEST(daemon.Dump({"records"}).empty());
  BOOST_TEST(daemon.Dump({"connections"}).empty());
  BOOST_TEST(daemon.daemon().Log().find(daemon.secret()) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(accepted_forms) {
  DaemonFixture daemon;
  int64_t now = NowSeconds();
  std::string wrong = HmacHex("another-secret", now, Body());

  struct Case {
    const char* name;
    std::vector<Header> headers;
  };
  const std::vector<Case> cases = {
      {"lowercase name", {{"terra-signature", SignatureValue(daemon.secret(), now, Body())}}},
      {"mixed case name", {{"Terra-Signature", SignatureValue(daemon.secret(), now, Body())}}},
      {"x-terra-signature", {{"X-Terra-Signature", SignatureValue(daemon.secret(), now, Body())}}},
      {"several v1",
       {{"terra-signature", "t=" + std::to_string(now) + ",v1=" + wrong +
                                ",v1=" + HmacHex(daemon.secret(), now, Body())}}},
      {"extra fields",
       {{"terra-signature", "t=" + std::to_string(now) + ", v0=zzz, v1=" +
                                HmacHex(daemon.secret(), now, Body())}}},
      {"within tolerance", {{"terra-signature", SignatureValue(daemon.secret(), now - 250, Body())}}},
      {"both names, first wrong",
       {{"terra-signature", "t=" + std::to_string(now) + ",v1=" + wrong},
        {"X-Terra-Signature", SignatureValue(daemon.secret(), now, Body())}}},
  };
  int index = 0;
  for (const Case& test : cases) {
    std::vector<Header> headers = test.headers;
    headers.push_back({"X-Terra-Trace-Id", "accepted-" + std::to_string(index++)});
    HttpResult result = daemon.SendWith(headers, Body());
    BOOST_TEST_CONTEXT(test.name) {
      BOOST_TEST(result.status == 200u);
    }
  }
  BOOST_TEST(daemon.Dump({"records"}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(rotated_secrets_both_accepted) {
  TempDir keys;
  WriteFile(keys.Sub("old"), "old-secret\n");
  WriteFile(keys.Sub("new"), "new-secret\n");
  DaemonFixture daemon({"--signing-secret-file", keys.Sub("old"),
                        "--signing-secret-file", keys.Sub("new")});
  int64_t now = NowSeconds();
  std::string first = DailyBody(kUserA, "2026-02-02T00:00:00+00:00", 1);
  std::string second = DailyBody(kUserA, "2026-02-03T00:00:00+00:00", 2);
  std::string third = DailyBody(kUserA, "2026-02-04T00:00:00+00:00", 3);

  HttpResult old_result = daemon.SendWith(
      {{"terra-signature", SignatureValue("old-secret", now, first)}, {"X-Terra-Trace-Id", "r1"}},
      first);
  HttpResult new_result = daemon.SendWith(
      {{"terra-signature", SignatureValue("new-secret", now, second)}, {"X-Terra-Trace-Id", "r2"}},
      second);
  // The daemon now holds three secrets (the fixture's, old and new); one
  // that was never configured must still fail.
  HttpResult unknown = daemon.SendWith(
      {{"terra-signature", SignatureValue("never-configured", now, third)},
       {"X-Terra-Trace-Id", "r3"}},
      third);

  BOOST_TEST(old_result.status == 200u);
  BOOST_TEST(new_result.status == 200u);
  BOOST_TEST(unknown.status == 401u);
  BOOST_TEST(daemon.Dump({"records"}).size() == 2u);
}

BOOST_AUTO_TEST_CASE(missing_trace_id_deduplicates_by_body) {
  DaemonFixture daemon;
  std::string body = Body();

  HttpResult first = daemon.Send(body, "");
  HttpResult second = daemon.Send(body, "");

  BOOST_TEST(first.body == "stored\n");
  BOOST_TEST(second.body == "duplicate delivery, already stored\n");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
