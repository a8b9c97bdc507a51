// bench-merge-chain: how fast a record with many unmerged operands reads,
// and how long operand chains stay under a steady stream of re-deliveries.
//
// Part 1 writes 1,000 operands of one record with max_successive_merges off,
// once all in the memtable and once spread over level-0 files with automatic
// compaction off, and times Get. Part 2 uses the daemon's options and
// re-delivers the same dates round after round, sampling the longest
// operand chain (DB::GetMergeOperands), level-0 files and Get latency.
// Prints tab-separated lines "part key value" for the run script.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <vector>

#include "store/envelope.h"
#include "store/keys.h"
#include "store/store.h"
#include "tests/bench/record_items.h"

namespace terra::bench {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

// Operands of the record in part 1, from the benchmark's definition.
constexpr int kChainOperands = 1000;

// Level-0 files the part-1 chain is spread over: one operand per file,
// because a flush merges the operands of a key that share a memtable.
constexpr int kChainFiles = kChainOperands;

// Timed reads per measurement; enough for a stable median on a noisy host.
constexpr int kTimedReads = 200;

// Size of each re-delivered item: the middle of the corpus' 2-8 KB bodies.
constexpr size_t kItemBytes = 5 << 10;

// Upper bound passed to GetMergeOperands; a chain longer than this reports
// Incomplete, which the sample prints as this bound.
constexpr int kMaxOperandsQueried = 4096;

struct Options {
  std::string scratch_dir;
  std::string fixtures_dir;
  int records = 100;
  int rounds = 1000;
  int sample_every = 100;
};

bool ParseOptions(int argc, char** argv, Options* options) {
  po::options_description description("bench-merge-chain options");
  description.add_options()("help", "print this help")(
      "scratch", po::value(&options->scratch_dir)->required(),
      "directory for the stores; created if missing")(
      "fixtures", po::value(&options->fixtures_dir)->required(),
      "directory of the webhook fixtures")(
      "records", po::value(&options->records)->default_value(100),
      "records re-delivered in part 2")(
      "rounds", po::value(&options->rounds)->default_value(1000),
      "re-deliveries of every record in part 2")(
      "sample-every", po::value(&options->sample_every)->default_value(100),
      "rounds between two samples in part 2");
  po::variables_map values;
  po::store(po::parse_command_line(argc, argv, description), values);
  if (values.count("help")) {
    std::cout << description << "\n";
    return false;
  }
  po::notify(values);
  return true;
}

std::unique_ptr<store::Store> OpenFresh(const std::string& path,
                                        size_t max_successive_merges) {
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  store::StoreOptions options;
  options.path = path;
  options.max_successive_merges = max_successive_merges;
  std::unique_ptr<store::Store> store;
  store::Status status = store::Store::Open(options, &store);
  if (!status.ok()) {
    std::cerr << "bench-merge-chain: " << status.message() << "\n";
    std::exit(2);
  }
  return store;
}

void Check(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return;
  std::cerr << "bench-merge-chain: " << what << ": " << status.ToString()
            << "\n";
  std::exit(2);
}

// Writes one re-delivery of `key` as its own unsynced write, as the committer
// does with a group of one.
void WriteCopy(store::Store* store, const std::string& key,
               const std::string& item, int64_t ordering_ms) {
  uint64_t sequence = store->NextSequence();
  rocksdb::WriteBatch batch;
  Check(batch.Merge(store->handle(store::Family::kRecords), key,
                    store::EncodeEnvelope(MakeEnvelope(item, "2026-06-01",
                                                       ordering_ms, sequence))),
        "merge");
  Check(store->db()->Write(rocksdb::WriteOptions(), &batch), "write");
}

int CountOperands(store::Store* store, const std::string& key) {
  std::vector<rocksdb::PinnableSlice> operands(kMaxOperandsQueried);
  rocksdb::GetMergeOperandsOptions options;
  options.expected_max_number_of_operands = kMaxOperandsQueried;
  int count = 0;
  rocksdb::Status status = store->db()->GetMergeOperands(
      rocksdb::ReadOptions(), store->handle(store::Family::kRecords), key,
      operands.data(), &options, &count);
  if (status.IsIncomplete()) return kMaxOperandsQueried;
  Check(status, "get merge operands");
  return count;
}

// Times `reads` Gets of `keys` in turn; returns the sorted latencies in us.
std::vector<double> TimeGets(store::Store* store,
                             const std::vector<std::string>& keys, int reads) {
  std::vector<double> micros;
  std::string value;
  for (int i = 0; i < reads; ++i) {
    auto start = Clock::now();
    Check(store->db()->Get(rocksdb::ReadOptions(),
                           store->handle(store::Family::kRecords),
                           keys[i % keys.size()], &value),
          "get");
    micros.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start)
            .count());
  }
  std::sort(micros.begin(), micros.end());
  return micros;
}

double Percentile(const std::vector<double>& sorted, double fraction) {
  return sorted[std::min(sorted.size() - 1,
                         static_cast<size_t>(fraction * sorted.size()))];
}

void PrintChain(std::string_view layout, store::Store* store,
                const std::string& key) {
  std::vector<double> micros = TimeGets(store, {key}, kTimedReads);
  std::cout << "chain\t" << layout << "\toperands=" << CountOperands(store, key)
            << "\tget_p50_us=" << Percentile(micros, 0.5)
            << "\tget_p99_us=" << Percentile(micros, 0.99)
            << "\tget_max_us=" << micros.back() << "\n";
}

// Part 1: one record with kChainOperands operands, in the memtable and then
// in level-0 files.
void RunChain(const Options& options, const std::string& item) {
  std::string key = store::RecordKey("bench-user", "daily", "2026-06-01");
  int64_t ordering_ms = 1'750'000'000'000;

  auto memtable = OpenFresh(options.scratch_dir + "/chain-memtable", 0);
  for (int i = 0; i < kChainOperands; ++i) {
    WriteCopy(memtable.get(), key, item, ++ordering_ms);
  }
  PrintChain("memtable", memtable.get(), key);
  memtable.reset();

  auto files = OpenFresh(options.scratch_dir + "/chain-files", 0);
  Check(files->db()->SetOptions(files->handle(store::Family::kRecords),
                                {{"disable_auto_compactions", "true"}}),
        "disable compactions");
  for (int i = 0; i < kChainOperands; ++i) {
    WriteCopy(files.get(), key, item, ++ordering_ms);
    if ((i + 1) % (kChainOperands / kChainFiles) == 0) {
      if (!files->Flush().ok()) Check(rocksdb::Status::IOError(), "flush");
    }
  }
  PrintChain("level0_files", files.get(), key);
}

std::string LevelZeroFiles(store::Store* store) {
  std::string value;
  store->db()->GetProperty(store->handle(store::Family::kRecords),
                           "rocksdb.num-files-at-level0", &value);
  return value;
}

// Part 2: the daemon's options, every record re-delivered once per round.
void RunSteadyStream(const Options& options, const std::string& item) {
  auto store = OpenFresh(options.scratch_dir + "/steady",
                         store::StoreOptions().max_successive_merges);
  std::vector<std::string> keys;
  for (int i = 0; i < options.records; ++i) {
    keys.push_back(store::RecordKey("bench-user-" + std::to_string(i % 10),
                                    "daily",
                                    "2026-06-" + std::to_string(10 + i / 10)));
  }
  int64_t ordering_ms = 1'750'000'000'000;
  auto start = Clock::now();
  for (int round = 1; round <= options.rounds; ++round) {
    for (const std::string& key : keys) {
      WriteCopy(store.get(), key, item, ++ordering_ms);
    }
    if (round % options.sample_every != 0) continue;

    int longest = 0;
    for (const std::string& key : keys) {
      longest = std::max(longest, CountOperands(store.get(), key));
    }
    std::vector<double> micros = TimeGets(store.get(), keys, kTimedReads);
    std::cout << "steady\tround=" << round
              << "\twrites=" << static_cast<int64_t>(round) * options.records
              << "\tmax_operands=" << longest
              << "\tlevel0_files=" << LevelZeroFiles(store.get())
              << "\tget_p50_us=" << Percentile(micros, 0.5)
              << "\tget_p99_us=" << Percentile(micros, 0.99) << "\tseconds="
              << std::chrono::duration<double>(Clock::now() - start).count()
              << "\n";
  }
}

int Run(const Options& options) {
  PayloadBuilder builder;
  std::string error;
  if (!builder.Load(options.fixtures_dir, &error)) {
    std::cerr << "bench-merge-chain: " << error << "\n";
    return 1;
  }
  std::mt19937_64 rng(3);
  std::string item = BuildItem(
      builder, {"daily", "bench-user", "GARMIN", "2026-06-01", "", kItemBytes},
      &rng);
  std::cout << "item\tbytes=" << item.size() << "\n";
  RunChain(options, item);
  RunSteadyStream(options, item);
  return 0;
}

}  // namespace
}  // namespace terra::bench

int main(int argc, char** argv) {
  terra::bench::Options options;
  try {
    if (!terra::bench::ParseOptions(argc, argv, &options)) return 0;
  } catch (const std::exception& error) {
    std::cerr << "bench-merge-chain: " << error.what() << "\n";
    return 1;
  }
  return terra::bench::Run(options);
}
