// The libFuzzer entry point that every target in this folder defines. The
// same sources build either as libFuzzer binaries (clang, -fsanitize=fuzzer)
// or, with replay_main.cc, as replay runners that any compiler builds and
// CTest runs over the seed corpus.

#ifndef TERRA_TESTS_FUZZ_FUZZ_TARGET_H_
#define TERRA_TESTS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

// Runs one input. Returns 0; a broken invariant aborts through FuzzCheck so
// that libFuzzer records the input as a crash.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace terra::fuzz {

// Aborts with `what` when `condition` is false.
inline void FuzzCheck(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace terra::fuzz

#endif  // TERRA_TESTS_FUZZ_FUZZ_TARGET_H_
