// bench-record-store: fills a new store with records for the dump benchmark.
// Each user gets a daily, sleep, activity and body record per day, written
// through the store library as merge operands of the `records` family, the
// way the committer writes them. Items are the fixtures' summaries without
// samples (about 0.5 KB each), re-dated per day.
//
// Keys are written in key order and without the write-ahead log, because
// only the finished store matters: a crash while building means building
// again. The store is flushed and compacted at the end, so the dump reads
// the shape a long-running store settles into.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <vector>

#include "store/envelope.h"
#include "store/keys.h"
#include "store/store.h"
#include "tests/bench/record_items.h"

namespace terra::bench {
namespace {

namespace po = boost::program_options;

// Merge operands per WriteBatch: large enough that per-write overhead does
// not dominate, small enough to keep the batch a few MB.
constexpr size_t kBatchRecords = 4096;

// Memtable size while building: larger than the daemon's default so that
// fewer, larger files reach level 0. It is not stored with the store.
constexpr size_t kBuildWriteBufferBytes = 128 << 20;

// Types in key order, so that records are written in key order.
constexpr std::string_view kTypes[] = {"activity", "body", "daily", "sleep"};

struct Options {
  std::string store_path;
  std::string fixtures_dir;
  int users = 10000;
  int days = 250;
};

bool ParseOptions(int argc, char** argv, Options* options) {
  po::options_description description("bench-record-store options");
  description.add_options()("help", "print this help")(
      "store", po::value(&options->store_path)->required(),
      "empty directory that becomes the store")(
      "fixtures", po::value(&options->fixtures_dir)->required(),
      "directory of the webhook fixtures")(
      "users", po::value(&options->users)->default_value(10000),
      "number of users")("days", po::value(&options->days)->default_value(250),
                         "days per user; records = users x days x 4");
  po::variables_map values;
  po::store(po::parse_command_line(argc, argv, description), values);
  if (values.count("help")) {
    std::cout << description << "\n";
    return false;
  }
  po::notify(values);
  return true;
}

std::string HexId(std::mt19937_64* rng) {
  char text[40];
  std::snprintf(text, sizeof(text), "%016llx-%016llx",
                static_cast<unsigned long long>((*rng)()),
                static_cast<unsigned long long>((*rng)()));
  return text;
}

std::string DateOf(int day) {
  using namespace std::chrono;
  year_month_day date(sys_days(2025y / January / 1) + days(day));
  char text[16];
  std::snprintf(
      text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

// One envelope per type and day, re-stamped for each record.
std::vector<std::vector<store::Envelope>> BuildEnvelopes(
    const PayloadBuilder& builder, const Options& options,
    std::mt19937_64* rng) {
  std::vector<std::vector<store::Envelope>> envelopes(std::size(kTypes));
  for (size_t type = 0; type < std::size(kTypes); ++type) {
    for (int day = 0; day < options.days; ++day) {
      PayloadSpec spec{std::string(kTypes[type]),
                       "bench-user",
                       "GARMIN",
                       DateOf(day),
                       "",
                       0};
      if (spec.type == "sleep" || spec.type == "activity") {
        spec.summary_id = HexId(rng);
      }
      envelopes[type].push_back(
          MakeEnvelope(BuildItem(builder, spec, rng), spec.date, 0, 0));
    }
  }
  return envelopes;
}

// Natural ids of one user's records of one type, sorted: dates for per-date
// types, summary ids for sessions. Returns the day index of each id.
std::vector<std::pair<std::string, int>> NaturalIds(std::string_view type,
                                                    const Options& options,
                                                    std::mt19937_64* rng) {
  std::vector<std::pair<std::string, int>> ids;
  bool session = type == "sleep" || type == "activity";
  for (int day = 0; day < options.days; ++day) {
    ids.emplace_back(session ? HexId(rng) : DateOf(day), day);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

int Build(const Options& options) {
  PayloadBuilder builder;
  std::string error;
  if (!builder.Load(options.fixtures_dir, &error)) {
    std::cerr << "bench-record-store: " << error << "\n";
    return 1;
  }
  store::StoreOptions store_options;
  store_options.path = options.store_path;
  store_options.write_buffer_bytes = kBuildWriteBufferBytes;
  std::unique_ptr<store::Store> store;
  if (store::Status status = store::Store::Open(store_options, &store);
      !status.ok()) {
    std::cerr << "bench-record-store: " << status.message() << "\n";
    return 2;
  }

  std::mt19937_64 rng(7);
  auto envelopes = BuildEnvelopes(builder, options, &rng);
  std::vector<std::string> users;
  for (int i = 0; i < options.users; ++i) users.push_back(HexId(&rng));
  std::sort(users.begin(), users.end());

  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;
  rocksdb::WriteBatch batch;
  int64_t ordering_ms = 1'750'000'000'000;
  uint64_t written = 0;
  auto flush_batch = [&]() {
    rocksdb::Status status = store->db()->Write(write_options, &batch);
    batch.Clear();
    return status;
  };

  for (const std::string& user : users) {
    for (size_t type = 0; type < std::size(kTypes); ++type) {
      for (const auto& [natural_id, day] :
           NaturalIds(kTypes[type], options, &rng)) {
        store::Envelope envelope = envelopes[type][day];
        envelope.sequence = envelope.delivery = store->NextSequence();
        envelope.ordering_ms = ++ordering_ms;
        for (auto& [key, value] : envelope.enrichment) {
          value.ordering_ms = envelope.ordering_ms;
          value.sequence = envelope.sequence;
        }
        batch
            .Merge(store->handle(store::Family::kRecords),
                   store::RecordKey(user, kTypes[type], natural_id),
                   store::EncodeEnvelope(envelope))
            .PermitUncheckedError();
        if (++written % kBatchRecords == 0) {
          if (rocksdb::Status status = flush_batch(); !status.ok()) {
            std::cerr << "bench-record-store: write failed: "
                      << status.ToString() << "\n";
            return 2;
          }
        }
      }
    }
  }

  // The last batch, then the files the dump will read.
  rocksdb::Status status = flush_batch();
  store::Status flushed = store->Flush();
  store::Status compacted = store->CompactFamily(store::Family::kRecords);
  if (!status.ok() || !flushed.ok() || !compacted.ok()) {
    std::cerr << "bench-record-store: finishing the store failed\n";
    return 2;
  }
  std::cout << "records " << written << " size_on_disk " << store->SizeOnDisk()
            << "\n";
  return 0;
}

}  // namespace
}  // namespace terra::bench

int main(int argc, char** argv) {
  terra::bench::Options options;
  try {
    if (!terra::bench::ParseOptions(argc, argv, &options)) return 0;
  } catch (const std::exception& error) {
    std::cerr << "bench-record-store: " << error.what() << "\n";
    return 1;
  }
  return terra::bench::Build(options);
}
