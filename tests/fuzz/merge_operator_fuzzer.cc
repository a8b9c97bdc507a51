// Fuzzes the record merge (MergeEnvelopes, on which the RocksDB operator is
// built) against a reference model. The input describes a list of operands,
// well-formed or malformed, and optionally an existing value; the merge of
// all of them, and a partial merge of a prefix followed by a full merge of
// the rest, must both equal the model: the newest copy by (ordering_ms,
// sequence), with each enrichment key's newest non-null value.
//
// Input format, one operand after another:
//   byte 0        flags: bit 0 set = the first operand is the existing value
//   byte 1        split point, modulo the operand count plus one
//   per operand   a kind byte; kind % 8 == 0 is malformed, then a length
//                 byte and that many raw bytes; otherwise four bytes follow:
//                 ordering, source, enrichment mask and score.

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "store/envelope.h"
#include "store/merge_operators.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using terra::fuzz::FuzzCheck;
namespace store = terra::store;

// Operands per input: RocksDB's max_successive_merges keeps real chains far
// shorter.
constexpr size_t kMaxOperands = 64;
const char* const kEnrichmentKeys[] = {"sleep_score", "stress_score",
                                       "total_score"};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  uint8_t Next() { return at_ < size_ ? data_[at_++] : 0; }
  std::string Take(size_t count) {
    std::string bytes;
    while (count-- > 0 && !empty()) bytes.push_back(static_cast<char>(Next()));
    return bytes;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

struct Operand {
  std::string bytes;
  bool well_formed = false;
  store::Envelope envelope;
};

// Sequences are unique (the low byte is the operand's position) but their
// order need not follow the operand order, as with concurrent deliveries.
Operand ReadOperand(ByteReader* reader, size_t position) {
  Operand operand;
  uint8_t kind = reader->Next();
  if (kind % 8 == 0) {
    operand.bytes = reader->Take(reader->Next());
    return operand;
  }
  store::Envelope& envelope = operand.envelope;
  envelope.ordering_ms = reader->Next() % 5;  // small range: many ties
  envelope.sequence = (uint64_t{kind} << 8) | position;
  envelope.source = static_cast<store::Source>(1 + reader->Next() % 4);
  envelope.delivery = envelope.sequence;
  envelope.date = "2026-01-01";
  uint8_t mask = reader->Next();
  uint8_t score = reader->Next();
  std::string scores;
  for (size_t k = 0; k < std::size(kEnrichmentKeys); ++k) {
    std::string json = "null";
    if ((mask >> k) & 1) {
      json = std::to_string(score + k);
      envelope.enrichment[kEnrichmentKeys[k]] = {envelope.ordering_ms,
                                                 envelope.sequence, json};
    }
    scores += std::string(k == 0 ? "" : ",") + "\"" + kEnrichmentKeys[k] +
              "\":" + json;
  }
  envelope.item_json = "{\"copy\":" + std::to_string(envelope.sequence) +
                       ",\"data_enrichment\":{" + scores + "}}";
  operand.bytes = store::EncodeEnvelope(envelope);
  operand.well_formed = true;
  return operand;
}

// The reference model over the well-formed operands.
store::Envelope Model(const std::vector<const store::Envelope*>& written) {
  store::Envelope result = *written.front();
  for (const store::Envelope* envelope : written) {
    if (store::IsNewer(*envelope, result)) result = *envelope;
  }
  result.enrichment.clear();
  for (const store::Envelope* envelope : written) {
    for (const auto& [key, value] : envelope->enrichment) {
      auto it = result.enrichment.find(key);
      bool newer = it == result.enrichment.end() ||
                   std::tie(value.ordering_ms, value.sequence) >
                       std::tie(it->second.ordering_ms, it->second.sequence);
      if (newer) result.enrichment[key] = value;
    }
  }
  return result;
}

// Checks a merge result against the model (empty when nothing was valid).
void CheckResult(const std::string& merged,
                 const std::vector<const store::Envelope*>& written) {
  if (written.empty()) {
    FuzzCheck(merged.empty(), "nothing well-formed merges to empty");
    return;
  }
  store::Envelope decoded;
  FuzzCheck(store::DecodeEnvelope(merged, &decoded),
            "a merge result is a well-formed envelope");
  FuzzCheck(decoded == Model(written), "the merge result equals the model");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader reader(data, size);
  bool with_existing = reader.Next() & 1;
  uint8_t split_byte = reader.Next();
  std::vector<Operand> operands;
  while (!reader.empty() && operands.size() < kMaxOperands) {
    operands.push_back(ReadOperand(&reader, operands.size()));
  }
  if (operands.empty() || (with_existing && operands.size() < 2)) return 0;

  // Raw bytes that happen to decode are a copy the model cannot order
  // against the others (its sequence may repeat one), so skip the input.
  store::Envelope ignored;
  for (const Operand& operand : operands) {
    if (!operand.well_formed &&
        store::DecodeEnvelope(operand.bytes, &ignored)) {
      return 0;
    }
  }

  const std::string_view existing_bytes = operands.front().bytes;
  const std::string_view* existing = with_existing ? &existing_bytes : nullptr;
  size_t first = with_existing ? 1 : 0;
  std::vector<std::string_view> views;
  std::vector<const store::Envelope*> written;
  for (size_t i = 0; i < operands.size(); ++i) {
    if (i >= first) views.emplace_back(operands[i].bytes);
    if (operands[i].well_formed) written.push_back(&operands[i].envelope);
  }

  // One full merge of everything.
  size_t malformed = 0;
  std::string all = store::MergeEnvelopes(existing, views, &malformed);
  FuzzCheck(malformed == operands.size() - written.size(),
            "every malformed input is counted");
  CheckResult(all, written);

  // A partial merge of a prefix (as in a flush or compaction), then a full
  // merge of its result with the rest.
  size_t split = split_byte % (views.size() + 1);
  std::vector<std::string_view> prefix(views.begin(), views.begin() + split);
  std::string partial = store::MergeEnvelopes(nullptr, prefix);
  std::vector<std::string_view> rest;
  if (!partial.empty()) rest.emplace_back(partial);
  rest.insert(rest.end(), views.begin() + split, views.end());
  std::string staged = store::MergeEnvelopes(existing, rest);
  CheckResult(staged, written);
  return 0;
}
