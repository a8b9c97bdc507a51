// A store in a fresh temporary directory, opened once per fuzzing process
// and removed at exit, for targets that need a real RocksDB.

#ifndef TERRA_TESTS_FUZZ_FUZZ_STORE_H_
#define TERRA_TESTS_FUZZ_FUZZ_STORE_H_

#include "store/store.h"

namespace terra::fuzz {

// Returns the process's store, opening it on the first call. Aborts if the
// store cannot be created.
store::Store* FuzzStore();

}  // namespace terra::fuzz

#endif  // TERRA_TESTS_FUZZ_FUZZ_STORE_H_
