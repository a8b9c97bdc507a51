// Terra webhook signatures. The `terra-signature` header has the form
// `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`; each v1 is HMAC-SHA256 with a
// signing secret over "<t>.<raw body>".

#ifndef TERRA_DAEMON_SIGNATURE_H_
#define TERRA_DAEMON_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace terra::daemon {

// A parsed signature header.
struct SignatureHeader {
  int64_t timestamp_s = 0;
  std::vector<std::string> v1;  // lowercase hex digests, in header order
};

// Why a signature was rejected; each maps to a metric label and a 401 reason.
enum class SignatureError {
  kNone,
  kMissing,     // no signature header
  kMalformed,   // not t=...,v1=... or a v1 that is not 64 hex digits
  kStale,       // t outside the tolerance
  kMismatch,    // no v1 matches any configured secret
};

// Returns a short lowercase name for logs and metrics, for example "stale".
std::string_view SignatureErrorName(SignatureError error);

// Parses a header value. Unknown keys (for example a future `v2`) are
// ignored; `t` must appear exactly once; at least one v1 is required.
// Returns false if the value is malformed.
[[nodiscard]] bool ParseSignatureHeader(std::string_view value,
                                        SignatureHeader* header);

// Returns the lowercase hex HMAC-SHA256 of "<timestamp_s>.<body>" with
// `secret`.
std::string ComputeSignature(std::string_view secret, int64_t timestamp_s,
                             std::string_view body);

// Returns a complete header value "t=<timestamp_s>,v1=<hex>".
std::string SignBody(std::string_view secret, int64_t timestamp_s,
                     std::string_view body);

// Verifies `header_value` for `body` against every secret, in constant time
// per comparison. `now_s` is the current unix time; a `t` further than
// `tolerance_s` from it in either direction is rejected as stale. On success
// stores the signed timestamp in `*signed_at_s`.
[[nodiscard]] SignatureError VerifySignature(
    std::string_view header_value, std::string_view body,
    const std::vector<std::string>& secrets, int64_t now_s,
    int64_t tolerance_s, int64_t* signed_at_s);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_SIGNATURE_H_
