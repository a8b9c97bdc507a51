// Signs test deliveries the way Terra does, with OpenSSL's one-shot HMAC so
// that the daemon's own signature code is not used to check itself.

#ifndef TERRA_TESTS_SUPPORT_SIGNING_H_
#define TERRA_TESTS_SUPPORT_SIGNING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/http_client.h"

namespace terra::testing {

// Returns the lowercase hex HMAC-SHA256 of "<t>.<body>".
std::string HmacHex(const std::string& secret, int64_t t,
                    const std::string& body);

// Returns the current unix time in seconds.
int64_t NowSeconds();

// Headers of a signed delivery: terra-signature, X-Terra-Trace-Id (when not
// empty) and X-Terra-Ordering-Timestamp (when given).
std::vector<Header> SignedHeaders(const std::string& secret,
                                  const std::string& body,
                                  const std::string& trace_id,
                                  std::optional<int64_t> ordering_ms = {},
                                  std::optional<int64_t> t = {});

}  // namespace terra::testing

#endif  // TERRA_TESTS_SUPPORT_SIGNING_H_
