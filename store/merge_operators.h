// RocksDB merge operators of the store: latest-wins records and connection
// updates. Both are stateless and deterministic, and never fail a read,
// flush or compaction because of a malformed operand: they skip it, count it
// in MalformedOperandCount() and log it.

#ifndef TERRA_STORE_MERGE_OPERATORS_H_
#define TERRA_STORE_MERGE_OPERATORS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class MergeOperator;
}

namespace terra::store {

// Merges envelopes: keeps the one with the greatest (ordering_ms, sequence)
// and, per `data_enrichment` key, the latest non-null value. `existing` may be
// null. Malformed inputs are skipped and counted in `*malformed` (when
// given). If no input is well-formed the result is empty.
std::string MergeEnvelopes(const std::string_view* existing,
                           const std::vector<std::string_view>& operands,
                           size_t* malformed = nullptr);

// Operator for the `records` family, built on MergeEnvelopes. Its Name() is
// "terra.LatestWinsRecord.v1" and must never change for existing stores.
std::shared_ptr<rocksdb::MergeOperator> NewRecordMergeOperator();

// Operator for the `connections` family, built on MergeConnection. Its
// Name() is "terra.ConnectionUpdate.v1".
std::shared_ptr<rocksdb::MergeOperator> NewConnectionMergeOperator();

// Number of malformed operands skipped by the operators of this process.
uint64_t MalformedOperandCount();

}  // namespace terra::store

#endif  // TERRA_STORE_MERGE_OPERATORS_H_
