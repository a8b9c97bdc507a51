// Signature header parsing and verification.

#include "daemon/signature.h"

#include <boost/test/unit_test.hpp>
#include <ostream>

namespace terra::daemon {

// Lets Boost.Test print SignatureError values in failure messages.
std::ostream& operator<<(std::ostream& out, SignatureError error) {
  return out << SignatureErrorName(error);
}

namespace {

constexpr char kSecret[] = "test-secret";
constexpr int64_t kT = 1700000000;
constexpr char kBody[] = R"({"type":"healthcheck"})";
// printf '1700000000.{"type":"healthcheck"}' | openssl dgst -sha256 -hmac test-secret
constexpr char kDigest[] =
    "e8cffb118119107209795e86714ef60153c7f918503b2a864d5362b6883276ba";

std::string Header(const std::string& digest) {
  return "t=" + std::to_string(kT) + ",v1=" + digest;
}

SignatureError Verify(const std::string& header,
                      const std::vector<std::string>& secrets = {kSecret},
                      int64_t now = kT, const std::string& body = kBody) {
  int64_t signed_at = 0;
  return VerifySignature(header, body, secrets, now, 300, &signed_at);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signature)

BOOST_AUTO_TEST_CASE(compute_matches_openssl_cli) {
  BOOST_TEST(ComputeSignature(kSecret, kT, kBody) == kDigest);
  BOOST_TEST(SignBody(kSecret, kT, kBody) == Header(kDigest));
}

BOOST_AUTO_TEST_CASE(parse_accepts_several_v1_and_spaces) {
  SignatureHeader header;
  BOOST_REQUIRE(ParseSignatureHeader(
      " t=12 , v1=" + std::string(64, 'a') + ",v0=ignored,v1=" + std::string(64, 'B'),
      &header));
  BOOST_TEST(header.timestamp_s == 12);
  BOOST_REQUIRE_EQUAL(header.v1.size(), 2u);
  BOOST_TEST(header.v1[1] == std::string(64, 'b'));
}

BOOST_AUTO_TEST_CASE(parse_rejects_malformed) {
  const std::string digest(64, 'a');
  const char* cases[] = {"", "t=1", "v1=" "aaaa", "t=1,v1=abc", "t=x,v1=a",
                         "t=-1,v1=a", "garbage"};
  for (const char* value : cases) {
    SignatureHeader header;
    BOOST_TEST(!ParseSignatureHeader(value, &header), "accepted: " << value);
  }
  SignatureHeader header;
  BOOST_TEST(!ParseSignatureHeader("t=1,t=2,v1=" + digest, &header));
  BOOST_TEST(!ParseSignatureHeader("t=1,v1=" + std::string(64, 'g'), &header));
  BOOST_TEST(!ParseSignatureHeader("t=1,novalue,v1=" + digest, &header));
}

BOOST_AUTO_TEST_CASE(verify_outcomes) {
  BOOST_TEST(Verify(Header(kDigest)) == SignatureError::kNone);
  BOOST_TEST(Verify("") == SignatureError::kMissing);
  BOOST_TEST(Verify("t=1") == SignatureError::kMalformed);
  BOOST_TEST(Verify(Header(std::string(64, '0'))) == SignatureError::kMismatch);
  BOOST_TEST(Verify(Header(kDigest), {"other"}) == SignatureError::kMismatch);
  BOOST_TEST(Verify(Header(kDigest), {kSecret}, kT + 301) == SignatureError::kStale);
  BOOST_TEST(Verify(Header(kDigest), {kSecret}, kT - 301) == SignatureError::kStale);
  BOOST_TEST(Verify(Header(kDigest), {kSecret}, kT + 300) == SignatureError::kNone);
  BOOST_TEST(Verify(Header(kDigest), {kSecret}, kT, std::string(kBody) + " ") ==
             SignatureError::kMismatch);
}

BOOST_AUTO_TEST_CASE(verify_any_secret_any_digest) {
  std::string both = Header(std::string(64, '0')) + ",v1=" + kDigest;
  BOOST_TEST(Verify(both) == SignatureError::kNone);
  BOOST_TEST(Verify(Header(kDigest), {"old", kSecret}) == SignatureError::kNone);

  int64_t signed_at = 0;
  BOOST_REQUIRE(VerifySignature(Header(kDigest), kBody, {kSecret}, kT, 300,
                                &signed_at) == SignatureError::kNone);
  BOOST_TEST(signed_at == kT);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
