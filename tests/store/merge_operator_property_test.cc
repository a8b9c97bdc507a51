// Property test of the record merge operator: whatever order RocksDB
// combines operands in (full merge on read, partial merge in flush and
// compaction, max_successive_merges at write), every key reads as a plain
// reference model computes it.

#include <rocksdb/merge_operator.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "store/envelope.h"
#include "store/merge_operators.h"
#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace terra::store {
namespace {

using terra::testing::TempDir;

constexpr int kRounds = 200;
constexpr int kKeysPerRound = 3;
constexpr int kMaxOperandsPerRound = 40;
constexpr int kMalformedRoundEvery = 7;
const char* const kEnrichmentKeys[] = {"sleep_score", "stress_score",
                                       "total_score"};

// Latest wins per key, and per enrichment key the latest non-null value.
Envelope ModelResult(const std::vector<Envelope>& written) {
  Envelope result = written.front();
  for (const Envelope& envelope : written) {
    if (IsNewer(envelope, result)) result = envelope;
  }

  result.enrichment.clear();
  for (const Envelope& envelope : written) {
    for (const auto& [key, value] : envelope.enrichment) {
      auto it = result.enrichment.find(key);
      bool newer = it == result.enrichment.end() ||
                   std::tie(value.ordering_ms, value.sequence) >
                       std::tie(it->second.ordering_ms, it->second.sequence);
      if (newer) result.enrichment[key] = value;
    }
  }
  return result;
}

// A random copy: ordering timestamps from a small range so that ties,
// broken by sequence, are common; each enrichment key present or null.
Envelope RandomEnvelope(std::mt19937_64& rng, uint64_t sequence) {
  Envelope envelope;
  envelope.ordering_ms = std::uniform_int_distribution<int64_t>(0, 4)(rng);
  envelope.sequence = sequence;
  envelope.source = static_cast<Source>(1 + rng() % 4);
  envelope.delivery = sequence * 10;
  envelope.date = "2024-03-0" + std::to_string(1 + rng() % 9);

  std::string scores;
  for (const char* key : kEnrichmentKeys) {
    std::string json = "null";
    if (rng() % 2 == 0) {
      json = std::to_string(rng() % 100);
      envelope.enrichment[key] = {envelope.ordering_ms, sequence, json};
    }
    scores +=
        std::string(scores.empty() ? "" : ",") + "\"" + key + "\":" + json;
  }
  envelope.item_json = "{\"copy\":" + std::to_string(sequence) +
                       ",\"data_enrichment\":{" + scores + "}}";
  return envelope;
}

// Bytes no decoder accepts: a truncated envelope or an unknown version.
std::string MalformedOperand(std::mt19937_64& rng, const Envelope& sample) {
  std::string bytes = EncodeEnvelope(sample);
  if (rng() % 2 == 0) {
    bytes[0] = static_cast<char>(2 + rng() % 200);
  } else {
    bytes.resize(rng() % bytes.size());
  }
  return bytes;
}

std::string Describe(const Envelope& envelope) {
  std::string text = "ordering_ms=" + std::to_string(envelope.ordering_ms) +
                     " sequence=" + std::to_string(envelope.sequence) + " {";
  for (const auto& [key, value] : envelope.enrichment) {
    text += key + "=" + value.json + "@" + std::to_string(value.sequence) + " ";
  }
  return text + "}";
}

class PropertyFixture {
 public:
  PropertyFixture() {
    StoreOptions options;
    options.path = dir_.path().string();
    options.block_cache_bytes = 1 << 20;
    options.write_buffer_bytes = 1 << 20;
    options.max_successive_merges = 3;
    Status status = Store::Open(options, &store_);
    BOOST_TEST_REQUIRE(status.ok(), status.message());
  }

  void Merge(const std::string& key, const std::string& operand) {
    rocksdb::WriteBatch batch;
    BOOST_REQUIRE(
        batch.Merge(store_->handle(Family::kRecords), key, operand).ok());
    BOOST_REQUIRE(store_->Write(&batch, false).ok());
  }

  // Reads `key` and checks it against the model of what was written.
  void Check(const std::string& key, const std::vector<Envelope>& written) {
    std::string bytes;
    Status status = store_->Get(Family::kRecords, key, &bytes);
    BOOST_TEST_REQUIRE(status.ok(), key << ": " << status.message());
    Envelope stored;
    BOOST_TEST_REQUIRE(DecodeEnvelope(bytes, &stored), key);
    Envelope expected = ModelResult(written);
    BOOST_TEST((stored == expected), key << ": stored " << Describe(stored)
                                         << ", expected "
                                         << Describe(expected));
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// One planned write: a key index and either a copy or malformed bytes.
struct PlannedWrite {
  int key = 0;
  Envelope envelope;
  bool is_malformed = false;
  std::string malformed;  // may be empty, which is malformed too
};

std::vector<PlannedWrite> PlanRound(std::mt19937_64& rng, Store* store,
                                    bool with_malformed) {
  // Sequences are taken in one order and written in another.
  int count = kKeysPerRound + static_cast<int>(rng() % kMaxOperandsPerRound);
  std::vector<PlannedWrite> writes;
  for (int i = 0; i < count; ++i) {
    PlannedWrite write;
    write.key = i < kKeysPerRound ? i : static_cast<int>(rng() % kKeysPerRound);
    write.envelope = RandomEnvelope(rng, store->NextSequence());
    writes.push_back(std::move(write));
  }
  std::shuffle(writes.begin(), writes.end(), rng);

  if (with_malformed) {
    for (int i = 0; i < 1 + static_cast<int>(rng() % 3); ++i) {
      PlannedWrite write;
      write.key = static_cast<int>(rng() % kKeysPerRound);
      write.is_malformed = true;
      write.malformed = MalformedOperand(rng, writes.front().envelope);
      writes.insert(writes.begin() + rng() % (writes.size() + 1), write);
    }
  }
  return writes;
}

BOOST_AUTO_TEST_SUITE(merge_property)

BOOST_FIXTURE_TEST_CASE(store_matches_model, PropertyFixture) {
  std::mt19937_64 rng(20240301);
  uint64_t malformed_before = MalformedOperandCount();
  int malformed_written = 0;

  for (int round = 0; round < kRounds; ++round) {
    std::string prefix = "round" + std::to_string(round) + "/";
    bool with_malformed = round % kMalformedRoundEvery == 0;
    std::vector<PlannedWrite> writes =
        PlanRound(rng, store_.get(), with_malformed);
    std::map<int, std::vector<Envelope>> model;

    for (const PlannedWrite& write : writes) {
      std::string key = prefix + std::to_string(write.key);
      if (write.is_malformed) {
        Merge(key, write.malformed);
        ++malformed_written;
      } else {
        Merge(key, EncodeEnvelope(write.envelope));
        model[write.key].push_back(write.envelope);
      }

      // Interleave reads, flushes and compactions at random.
      uint64_t action = rng() % 100;
      if (action < 5) {
        BOOST_REQUIRE(store_->Flush().ok());
      } else if (action < 8) {
        BOOST_REQUIRE(store_->CompactFamily(Family::kRecords).ok());
      } else if (action < 30 && model.count(write.key) > 0) {
        Check(key, model[write.key]);
      }
    }

    for (const auto& [index, written] : model) {
      Check(prefix + std::to_string(index), written);
    }
  }

  BOOST_TEST(malformed_written > 0);
  BOOST_TEST(MalformedOperandCount() > malformed_before);
}

BOOST_AUTO_TEST_CASE(merge_of_merges_equals_merge_of_all) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::string> encoded;
    uint64_t count = 2 + rng() % 12;
    for (uint64_t i = 1; i <= count; ++i) {
      encoded.push_back(EncodeEnvelope(RandomEnvelope(rng, i)));
    }
    std::vector<std::string_view> all(encoded.begin(), encoded.end());
    std::string expected = MergeEnvelopes(nullptr, all);

    // Shuffle, cut into random groups, merge each, then merge the results
    // with the first as the existing value.
    std::shuffle(all.begin(), all.end(), rng);
    std::vector<std::string> partials;
    for (size_t begin = 0; begin < all.size();) {
      size_t end = std::min(all.size(), begin + 1 + rng() % 4);
      partials.push_back(
          MergeEnvelopes(nullptr, std::vector<std::string_view>(
                                      all.begin() + begin, all.begin() + end)));
      begin = end;
    }
    std::string_view existing = partials.front();
    std::vector<std::string_view> rest(partials.begin() + 1, partials.end());
    BOOST_TEST(MergeEnvelopes(&existing, rest) == expected, "round " << round);
  }
}

BOOST_AUTO_TEST_CASE(merge_skips_and_counts_malformed) {
  Envelope a;
  a.sequence = 1;
  a.item_json = "{}";
  Envelope b = a;
  b.sequence = 2;
  std::string encoded_a = EncodeEnvelope(a);
  std::string encoded_b = EncodeEnvelope(b);
  std::string truncated = encoded_b.substr(0, 5);

  size_t malformed = 0;
  std::string merged =
      MergeEnvelopes(nullptr, {encoded_a, truncated, encoded_b}, &malformed);
  BOOST_TEST(malformed == 1u);
  BOOST_TEST(merged == encoded_b);
  BOOST_TEST(MergeEnvelopes(nullptr, {truncated}).empty());
}

BOOST_AUTO_TEST_CASE(operator_contract_on_malformed) {
  std::shared_ptr<rocksdb::MergeOperator> op = NewRecordMergeOperator();
  BOOST_TEST(std::string(op->Name()) == "terra.LatestWinsRecord.v1");
  Envelope a;
  a.item_json = "{}";
  std::string good = EncodeEnvelope(a);
  std::string bad = "\x09garbage";

  std::deque<rocksdb::Slice> operands = {good, bad};
  std::string partial;
  BOOST_TEST(!op->PartialMergeMulti("k", operands, &partial, nullptr));

  uint64_t before = MalformedOperandCount();
  std::vector<rocksdb::Slice> only_bad = {bad};
  std::string value;
  rocksdb::Slice existing_operand;
  rocksdb::MergeOperator::MergeOperationInput in("k", nullptr, only_bad,
                                                 nullptr);
  rocksdb::MergeOperator::MergeOperationOutput out(value, existing_operand);
  BOOST_TEST(op->FullMergeV2(in, &out));
  BOOST_TEST(value == bad);
  BOOST_TEST(MalformedOperandCount() == before + 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::store
