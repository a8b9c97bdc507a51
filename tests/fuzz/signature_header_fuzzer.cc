// Fuzzes the signature header parser and verifier with the input as the
// header value. A header that parses must hold only lowercase 64-digit v1
// digests, and a header that verifies must carry the HMAC of the body.

#include <string>
#include <string_view>
#include <vector>

#include "daemon/signature.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using terra::fuzz::FuzzCheck;

constexpr char kSecret[] = "whsec-fuzz";
constexpr char kBody[] = "{\"type\":\"healthcheck\"}";

// The clock the verifier sees; seeds sign with timestamps near it.
constexpr int64_t kNowS = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int64_t kToleranceS = 300;

void CheckParsed(const terra::daemon::SignatureHeader& header) {
  FuzzCheck(!header.v1.empty(), "a parsed header has a v1");
  FuzzCheck(header.timestamp_s >= 0, "a parsed t is not negative");
  for (const std::string& digest : header.v1) {
    FuzzCheck(digest.size() == 64, "a v1 digest has 64 digits");
    for (char c : digest) {
      FuzzCheck((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'),
                "a v1 digest is lowercase hex");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);

  terra::daemon::SignatureHeader header;
  bool parsed = terra::daemon::ParseSignatureHeader(value, &header);
  if (parsed) CheckParsed(header);

  int64_t signed_at_s = -1;
  terra::daemon::SignatureError error = terra::daemon::VerifySignature(
      value, kBody, std::vector<std::string>{kSecret}, kNowS, kToleranceS,
      &signed_at_s);
  if (error != terra::daemon::SignatureError::kNone) return 0;

  // Accepted: the header parsed, t is within the tolerance and one v1 is the
  // HMAC of "<t>.<body>".
  FuzzCheck(parsed, "an accepted header parses");
  FuzzCheck(signed_at_s == header.timestamp_s, "the signed time is t");
  FuzzCheck(
      signed_at_s >= kNowS - kToleranceS && signed_at_s <= kNowS + kToleranceS,
      "an accepted t is within the tolerance");
  std::string expected =
      terra::daemon::ComputeSignature(kSecret, signed_at_s, kBody);
  bool matched = false;
  for (const std::string& digest : header.v1) matched |= digest == expected;
  FuzzCheck(matched, "an accepted header carries the body's HMAC");
  return 0;
}
