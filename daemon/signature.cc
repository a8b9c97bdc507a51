#include "daemon/signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <cstdlib>

namespace terra::daemon {
namespace {

constexpr size_t kSha256HexLength = 64;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

bool IsLowerHexDigest(std::string_view text) {
  if (text.size() != kSha256HexLength) {
    return false;
  }
  for (char c : text) {
    bool digit = c >= '0' && c <= '9';
    bool letter = c >= 'a' && c <= 'f';
    if (!digit && !letter) {
      return false;
    }
  }
  return true;
}

std::string ToLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return lower;
}

// The HMAC implementation, fetched from OpenSSL's provider once per process
// because a fetch costs a provider lookup; EVP_MAC objects are thread-safe.
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const algorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return algorithm;
}

bool ParseTimestamp(std::string_view text, int64_t* value) {
  if (text.empty() || text.size() > 12) {
    return false;
  }
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size() && *value >= 0;
}

}  // namespace

std::string_view SignatureErrorName(SignatureError error) {
  switch (error) {
    case SignatureError::kNone:
      return "none";
    case SignatureError::kMissing:
      return "missing";
    case SignatureError::kMalformed:
      return "malformed";
    case SignatureError::kStale:
      return "stale";
    case SignatureError::kMismatch:
      return "mismatch";
  }
  return "unknown";
}

bool ParseSignatureHeader(std::string_view value, SignatureHeader* header) {
  SignatureHeader parsed;
  bool have_timestamp = false;

  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = Trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view()
                                            : value.substr(comma + 1);
    if (element.empty()) {
      continue;
    }

    size_t equals = element.find('=');
    if (equals == std::string_view::npos) {
      return false;
    }
    std::string_view key = Trim(element.substr(0, equals));
    std::string_view item = Trim(element.substr(equals + 1));

    if (key == "t") {
      if (have_timestamp || !ParseTimestamp(item, &parsed.timestamp_s)) {
        return false;
      }
      have_timestamp = true;
    } else if (key == "v1") {
      std::string digest = ToLower(item);
      if (!IsLowerHexDigest(digest)) {
        return false;
      }
      parsed.v1.push_back(std::move(digest));
    }
    // Other keys (a future scheme such as v2) are ignored, as Stripe-style
    // signature headers expect of verifiers.
  }

  if (!have_timestamp || parsed.v1.empty()) {
    return false;
  }
  *header = std::move(parsed);
  return true;
}

std::string ComputeSignature(std::string_view secret, int64_t timestamp_s,
                             std::string_view body) {
  std::string prefix = std::to_string(timestamp_s) + ".";

  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t digest_length = 0;
  EVP_MAC_CTX* context =
      HmacAlgorithm() != nullptr ? EVP_MAC_CTX_new(HmacAlgorithm()) : nullptr;
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  bool ok = context != nullptr &&
            EVP_MAC_init(context,
                         reinterpret_cast<const unsigned char*>(secret.data()),
                         secret.size(), params) == 1 &&
            EVP_MAC_update(context,
                           reinterpret_cast<const unsigned char*>(prefix.data()),
                           prefix.size()) == 1 &&
            EVP_MAC_update(context,
                           reinterpret_cast<const unsigned char*>(body.data()),
                           body.size()) == 1 &&
            EVP_MAC_final(context, digest, &digest_length, sizeof(digest)) == 1;
  EVP_MAC_CTX_free(context);
  if (!ok) {
    // HMAC-SHA256 is part of OpenSSL's default provider; failing here means
    // the library itself is unusable, and no request can be verified.
    std::abort();
  }

  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(digest_length * 2);
  for (size_t i = 0; i < digest_length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

std::string SignBody(std::string_view secret, int64_t timestamp_s,
                     std::string_view body) {
  return "t=" + std::to_string(timestamp_s) +
         ",v1=" + ComputeSignature(secret, timestamp_s, body);
}

SignatureError VerifySignature(std::string_view header_value,
                               std::string_view body,
                               const std::vector<std::string>& secrets,
                               int64_t now_s, int64_t tolerance_s,
                               int64_t* signed_at_s) {
  if (Trim(header_value).empty()) {
    return SignatureError::kMissing;
  }

  SignatureHeader header;
  if (!ParseSignatureHeader(header_value, &header)) {
    return SignatureError::kMalformed;
  }

  if (std::llabs(now_s - header.timestamp_s) > tolerance_s) {
    return SignatureError::kStale;
  }

  // Every (secret, v1) pair is compared, so the time taken does not reveal
  // which secret or which digest matched.
  bool matched = false;
  for (const std::string& secret : secrets) {
    std::string expected = ComputeSignature(secret, header.timestamp_s, body);
    for (const std::string& candidate : header.v1) {
      matched |= CRYPTO_memcmp(expected.data(), candidate.data(),
                               kSha256HexLength) == 0;
    }
  }
  if (!matched) {
    return SignatureError::kMismatch;
  }

  *signed_at_s = header.timestamp_s;
  return SignatureError::kNone;
}

}  // namespace terra::daemon
