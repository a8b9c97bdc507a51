// Merge operators of the `records` and `connections` families.
//
// `records` operands and values are envelopes in the binary format written at
// the top of envelope.cc: a version byte (1), the header (ordering_ms,
// sequence, source, delivery, date), the enrichment entries and the item
// JSON. Merge rule: the result carries the header and item JSON of the input
// with the greatest (ordering_ms, sequence), and per `data_enrichment` key
// the entry with the greatest (ordering_ms, sequence) over all inputs. Item
// JSON is never parsed here.
//
// `connections` operands and values are JSON; their format and merge rule
// are written at the top of connection.cc.
//
// Both rules are associative and commutative, so RocksDB may combine any
// subset of operands (partial merge during compaction, max_successive_merges
// at write time) and reach the same value as a full merge on read.
//
// A malformed input is skipped, never allowed to fail a merge: RocksDB turns
// a failed FullMergeV2 into a failed read, flush or compaction of the whole
// family. PartialMergeMulti does fail on a malformed operand, so that RocksDB
// keeps the operands apart and the full merge reports and skips it.

#include "store/merge_operators.h"

#include <rocksdb/merge_operator.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <tuple>

#include "store/connection.h"
#include "store/envelope.h"

namespace terra::store {
namespace {

// Malformed operands logged individually before logging only every
// kLogEveryMalformed-th, so a corrupt key read in a loop cannot flood the
// journal.
constexpr uint64_t kLogFirstMalformed = 10;
constexpr uint64_t kLogEveryMalformed = 1000;

std::atomic<uint64_t> malformed_operands{0};

// Same signature as MergeEnvelopes and MergeConnection.
using MergeFunction = std::string (*)(const std::string_view*,
                                      const std::vector<std::string_view>&,
                                      size_t*);

// Returns `key` with NUL separators shown as '/', for log lines.
std::string PrintableKey(const rocksdb::Slice& key) {
  std::string printable = key.ToString();
  for (char& c : printable) {
    if (c == '\0') c = '/';
  }
  return printable;
}

void ReportMalformed(const char* name, const rocksdb::Slice& key,
                     size_t count) {
  uint64_t before = malformed_operands.fetch_add(count);
  for (uint64_t total = before + 1; total <= before + count; ++total) {
    if (total <= kLogFirstMalformed || total % kLogEveryMalformed == 0) {
      spdlog::warn(
          "{}: skipped {} malformed merge input(s) of key '{}' ({} skipped "
          "by this process)",
          name, count, PrintableKey(key), before + count);
      return;
    }
  }
}

// An envelope decoded for merging: its item stays in the input's bytes.
struct MergeInput {
  Envelope envelope;  // item_json empty
  std::string_view item_json;
};

// Orders copies; the tie-break on identical (ordering_ms, sequence) only
// keeps the result independent of input order for inconsistent data, since
// sequences are unique.
bool CopyLess(const MergeInput& a, const MergeInput& b) {
  const Envelope& x = a.envelope;
  const Envelope& y = b.envelope;
  return std::tie(x.ordering_ms, x.sequence, x.source, x.delivery, x.date,
                  a.item_json) < std::tie(y.ordering_ms, y.sequence, y.source,
                                          y.delivery, y.date, b.item_json);
}

bool EnrichmentLess(const EnrichmentValue& a, const EnrichmentValue& b) {
  return std::tie(a.ordering_ms, a.sequence, a.json) <
         std::tie(b.ordering_ms, b.sequence, b.json);
}

void MergeEnrichment(Envelope* merged, Envelope* input) {
  for (auto& [key, value] : input->enrichment) {
    auto it = merged->enrichment.find(key);
    if (it == merged->enrichment.end()) {
      merged->enrichment.emplace(key, std::move(value));
    } else if (EnrichmentLess(it->second, value)) {
      it->second = std::move(value);
    }
  }
}

// Folds a well-formed `input` into `merged`, which contains at least one input.
void CombineEnvelope(MergeInput* merged, MergeInput* input) {
  MergeEnrichment(&merged->envelope, &input->envelope);
  if (!CopyLess(*merged, *input)) return;

  Envelope& to = merged->envelope;
  Envelope& from = input->envelope;
  to.ordering_ms = from.ordering_ms;
  to.sequence = from.sequence;
  to.source = from.source;
  to.delivery = from.delivery;
  to.date = std::move(from.date);
  merged->item_json = input->item_json;
}

class MergeOperatorImpl : public rocksdb::MergeOperator {
 public:
  MergeOperatorImpl(const char* name, MergeFunction merge)
      : name_(name), merge_(merge) {}

  bool FullMergeV2(const MergeOperationInput& merge_in,
                   MergeOperationOutput* merge_out) const override {
    std::string_view existing;
    if (merge_in.existing_value != nullptr) {
      existing = merge_in.existing_value->ToStringView();
    }
    std::vector<std::string_view> operands;
    operands.reserve(merge_in.operand_list.size());
    for (const rocksdb::Slice& operand : merge_in.operand_list) {
      operands.push_back(operand.ToStringView());
    }

    size_t malformed = 0;
    merge_out->new_value =
        merge_(merge_in.existing_value != nullptr ? &existing : nullptr,
               operands, &malformed);
    if (malformed > 0) ReportMalformed(name_, merge_in.key, malformed);

    // Nothing was well-formed: keep bytes that readers report as malformed
    // for this one key, rather than fail the read.
    if (merge_out->new_value.empty() && merge_in.existing_value != nullptr) {
      merge_out->new_value.assign(existing);
    } else if (merge_out->new_value.empty() && !operands.empty()) {
      merge_out->new_value.assign(operands.back());
    }
    return true;
  }

  bool PartialMergeMulti(const rocksdb::Slice& key,
                         const std::deque<rocksdb::Slice>& operand_list,
                         std::string* new_value,
                         rocksdb::Logger* logger) const override {
    std::vector<std::string_view> operands;
    operands.reserve(operand_list.size());
    for (const rocksdb::Slice& operand : operand_list) {
      operands.push_back(operand.ToStringView());
    }

    size_t malformed = 0;
    std::string merged = merge_(nullptr, operands, &malformed);
    if (malformed > 0) return false;
    *new_value = std::move(merged);
    return true;
  }

  const char* Name() const override { return name_; }

 private:
  const char* name_;
  MergeFunction merge_;
};

}  // namespace

std::string MergeEnvelopes(const std::string_view* existing,
                           const std::vector<std::string_view>& operands,
                           size_t* malformed) {
  // Items stay in the inputs' bytes until the winner's is written once.
  MergeInput merged;
  MergeInput input;
  bool any = false;
  size_t skipped = 0;
  auto fold = [&](std::string_view bytes) {
    MergeInput& target = any ? input : merged;
    if (!DecodeEnvelopeView(bytes, &target.envelope, &target.item_json)) {
      ++skipped;
    } else if (!any) {
      any = true;
    } else {
      CombineEnvelope(&merged, &input);
    }
  };

  if (existing != nullptr) fold(*existing);
  for (std::string_view operand : operands) fold(operand);

  if (malformed != nullptr) *malformed = skipped;
  return any ? EncodeEnvelope(merged.envelope, merged.item_json)
             : std::string();
}

std::shared_ptr<rocksdb::MergeOperator> NewRecordMergeOperator() {
  return std::make_shared<MergeOperatorImpl>("terra.LatestWinsRecord.v1",
                                             &MergeEnvelopes);
}

std::shared_ptr<rocksdb::MergeOperator> NewConnectionMergeOperator() {
  return std::make_shared<MergeOperatorImpl>("terra.ConnectionUpdate.v1",
                                             &MergeConnection);
}

uint64_t MalformedOperandCount() { return malformed_operands.load(); }

}  // namespace terra::store
