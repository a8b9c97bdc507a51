// Loads JSON fixtures from tests/fixtures, which are built from the example
// payloads of Terra's published OpenAPI description (v2).

#ifndef TERRA_TESTS_SUPPORT_FIXTURES_H_
#define TERRA_TESTS_SUPPORT_FIXTURES_H_

#include <string>

namespace terra::testing {

// Returns the bytes of tests/fixtures/<name>. Throws std::runtime_error if the
// file cannot be read.
std::string ReadFixture(const std::string& name);

// Returns the bytes of any file. Throws std::runtime_error on failure.
std::string ReadFile(const std::string& path);

// Writes `bytes` to `path` with `mode`. Throws std::runtime_error on failure.
void WriteFile(const std::string& path, const std::string& bytes,
               unsigned mode = 0600);

}  // namespace terra::testing

#endif  // TERRA_TESTS_SUPPORT_FIXTURES_H_
