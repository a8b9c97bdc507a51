#include "tests/support/signing.h"

#include <openssl/evp.h>

#include <chrono>
#include <stdexcept>

namespace terra::testing {

std::string HmacHex(const std::string& secret, int64_t t,
                    const std::string& body) {
  std::string message = std::to_string(t) + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t length = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(),
                secret.size(),
                reinterpret_cast<const unsigned char*>(message.data()),
                message.size(), digest, sizeof(digest), &length) == nullptr) {
    throw std::runtime_error("EVP_Q_mac failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<Header> SignedHeaders(const std::string& secret,
                                  const std::string& body,
                                  const std::string& trace_id,
                                  std::optional<int64_t> ordering_ms,
                                  std::optional<int64_t> t) {
  int64_t timestamp = t.value_or(NowSeconds());
  std::vector<Header> headers{
      {"terra-signature",
       "t=" + std::to_string(timestamp) + ",v1=" + HmacHex(secret, timestamp, body)}};
  if (!trace_id.empty()) {
    headers.push_back({"X-Terra-Trace-Id", trace_id});
  }
  if (ordering_ms) {
    headers.push_back({"X-Terra-Ordering-Timestamp", std::to_string(*ordering_ms)});
  }
  return headers;
}

}  // namespace terra::testing
