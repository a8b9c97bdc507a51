// Record items and envelopes for the store benchmarks: the first item of a
// generated webhook body, wrapped the way the applier wraps it.

#ifndef TERRA_TESTS_BENCH_RECORD_ITEMS_H_
#define TERRA_TESTS_BENCH_RECORD_ITEMS_H_

#include <cstdint>
#include <string>

#include "store/envelope.h"
#include "tests/bench/payload_builder.h"

namespace terra::bench {

// Returns the serialized `data[0]` item of the body that `builder` makes for
// `spec`.
std::string BuildItem(const PayloadBuilder& builder, const PayloadSpec& spec,
                      std::mt19937_64* rng);

// Returns a webhook envelope of `item_json` for `date`, with the non-null
// `data_enrichment` values of the item, as the applier stores them.
store::Envelope MakeEnvelope(const std::string& item_json,
                             const std::string& date, int64_t ordering_ms,
                             uint64_t sequence);

}  // namespace terra::bench

#endif  // TERRA_TESTS_BENCH_RECORD_ITEMS_H_
