#include "store/store.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "store/creation_marker.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

namespace terra::store {
namespace {

using terra::testing::TempDir;

StoreOptions OptionsFor(const std::string& path) {
  StoreOptions options;
  options.path = path;
  options.block_cache_bytes = 1 << 20;
  options.write_buffer_bytes = 1 << 20;
  return options;
}

Status PutMeta(Store* store, std::string_view name, std::string_view value) {
  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(batch.Put(store->handle(Family::kMeta), name, value).ok());
  return store->Write(&batch, true);
}

// Where CorruptTableFiles damages a table file.
enum class Damage {
  kDataBlock,      // the first bytes: a data block, read by a Get
  kMetadataBlock,  // the middle: for a file of a few entries, its properties
                   // and index, read when RocksDB opens the file
};

// Inverts 16 bytes of every table file in `path`, so that the block there
// fails its checksum.
void CorruptTableFiles(const std::string& path, Damage damage) {
  constexpr size_t kCorruptBytes = 16;
  size_t corrupted = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() != ".sst") {
      continue;
    }
    size_t offset = damage == Damage::kDataBlock ? 0 : entry.file_size() / 2;
    std::fstream file(entry.path(),
                      std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes(kCorruptBytes, '\0');
    BOOST_REQUIRE(file.seekg(offset));
    BOOST_REQUIRE(file.read(bytes.data(), bytes.size()));
    for (char& byte : bytes) {
      byte = static_cast<char>(~byte);
    }
    BOOST_REQUIRE(file.seekp(offset));
    BOOST_REQUIRE(file.write(bytes.data(), bytes.size()));
    ++corrupted;
  }
  BOOST_REQUIRE(corrupted > 0u);
}

BOOST_AUTO_TEST_SUITE(store)

BOOST_AUTO_TEST_CASE(new_store_in_empty_dir) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Status status = Store::Open(OptionsFor(dir.path().string()), &store);
  BOOST_TEST_REQUIRE(status.ok(), status.message());
  BOOST_TEST(store->format_version() == kFormatVersion);
  BOOST_TEST(store->LastSequence() == 0u);

  std::string version;
  BOOST_TEST(store->Get(Family::kMeta, kMetaFormatVersion, &version).ok());
  BOOST_TEST(version == std::to_string(kFormatVersion));
  std::string value;
  BOOST_TEST(store->Get(Family::kRecords, "absent", &value).IsNotFound());
}

// Leaves `path` as a creation killed after RocksDB made its database but
// before the store's families and format version: the marker, unlocked, and
// a plain database.
void LeaveInterruptedCreation(const std::string& path) {
  terra::testing::WriteFile(path + "/" + kCreationMarkerName, "");
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  BOOST_REQUIRE(rocksdb::DB::Open(options, path, &db).ok());
  delete db;
}

BOOST_AUTO_TEST_CASE(creation_removes_marker) {
  TempDir dir;
  std::unique_ptr<Store> store;
  BOOST_REQUIRE(Store::Open(OptionsFor(dir.path().string()), &store).ok());
  BOOST_TEST(!std::filesystem::exists(dir.Sub(kCreationMarkerName)));
}

BOOST_AUTO_TEST_CASE(interrupted_creation_redone) {
  TempDir dir;
  LeaveInterruptedCreation(dir.path().string());

  std::unique_ptr<Store> store;
  Status status = Store::Open(OptionsFor(dir.path().string()), &store);

  BOOST_TEST_REQUIRE(status.ok(), status.message());
  BOOST_TEST(store->format_version() == kFormatVersion);
  BOOST_TEST(!std::filesystem::exists(dir.Sub(kCreationMarkerName)));
  store.reset();
  // It stays a store: the next open does not create it again.
  BOOST_REQUIRE(Store::Open(OptionsFor(dir.path().string()), &store).ok());
  BOOST_TEST(store->LastSequence() == 0u);
}

BOOST_AUTO_TEST_CASE(creation_in_progress_busy) {
  TempDir dir;
  LeaveInterruptedCreation(dir.path().string());
  // Another process holding the marker is still creating the store.
  int fd = open(dir.Sub(kCreationMarkerName).c_str(), O_RDWR);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);

  std::unique_ptr<Store> store;
  Status status = Store::Open(OptionsFor(dir.path().string()), &store);
  close(fd);

  BOOST_TEST((status.code() == Status::Code::kBusy));
  BOOST_TEST(status.message().find("is being created by another process") !=
             std::string::npos);
  BOOST_TEST(std::filesystem::exists(dir.Sub("CURRENT")));
}

BOOST_AUTO_TEST_CASE(secondary_reports_interrupted_creation) {
  TempDir dir;
  std::filesystem::create_directory(dir.Sub("store"));
  LeaveInterruptedCreation(dir.Sub("store"));
  StoreOptions options = OptionsFor(dir.Sub("store"));
  options.secondary = true;
  options.secondary_path = dir.Sub("secondary");

  std::unique_ptr<Store> store;
  Status status = Store::Open(options, &store);

  BOOST_TEST((status.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(status.message().find("its creation was interrupted") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_dir_rejected) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Status status = Store::Open(OptionsFor(dir.Sub("missing")), &store);
  BOOST_TEST((status.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(status.message().find("does not exist") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(dir.Sub("missing")));
}

BOOST_AUTO_TEST_CASE(foreign_dir_rejected) {
  TempDir dir;
  terra::testing::WriteFile(dir.Sub("notes.txt"), "hello");
  std::unique_ptr<Store> store;
  Status status = Store::Open(OptionsFor(dir.path().string()), &store);
  BOOST_TEST((status.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(status.message().find("is not a terra-sync store") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(plain_rocksdb_rejected) {
  TempDir dir;
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  BOOST_REQUIRE(rocksdb::DB::Open(options, dir.path().string(), &db).ok());
  BOOST_REQUIRE(db->Put(rocksdb::WriteOptions(), "k", "v").ok());
  delete db;

  std::unique_ptr<Store> store;
  Status status = Store::Open(OptionsFor(dir.path().string()), &store);
  BOOST_TEST((status.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(status.message().find("is not a terra-sync store") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(newer_format_rejected) {
  TempDir dir;
  StoreOptions options = OptionsFor(dir.path().string());
  {
    std::unique_ptr<Store> store;
    BOOST_REQUIRE(Store::Open(options, &store).ok());
    BOOST_REQUIRE(PutMeta(store.get(), kMetaFormatVersion,
                          std::to_string(kFormatVersion + 1))
                      .ok());
  }

  std::unique_ptr<Store> store;
  Status status = Store::Open(options, &store);
  BOOST_TEST((status.code() == Status::Code::kNewerFormat));
  BOOST_TEST(status.message().find("upgrade terra-sync") != std::string::npos);
  BOOST_TEST(store == nullptr);
}

BOOST_AUTO_TEST_CASE(newer_format_with_new_family_rejected) {
  TempDir dir;
  StoreOptions options = OptionsFor(dir.path().string());
  {
    std::unique_ptr<Store> store;
    BOOST_REQUIRE(Store::Open(options, &store).ok());
    rocksdb::ColumnFamilyHandle* added = nullptr;
    BOOST_REQUIRE(store->db()
                      ->CreateColumnFamily(rocksdb::ColumnFamilyOptions(),
                                           "added_later", &added)
                      .ok());
    BOOST_REQUIRE(store->db()->DestroyColumnFamilyHandle(added).ok());
    BOOST_REQUIRE(PutMeta(store.get(), kMetaFormatVersion,
                          std::to_string(kFormatVersion + 1))
                      .ok());
  }

  std::unique_ptr<Store> store;
  Status status = Store::Open(options, &store);
  BOOST_TEST((status.code() == Status::Code::kNewerFormat));
}

BOOST_AUTO_TEST_CASE(sequence_continues_after_reopen) {
  TempDir dir;
  StoreOptions options = OptionsFor(dir.path().string());
  uint64_t last = 0;
  {
    std::unique_ptr<Store> store;
    BOOST_REQUIRE(Store::Open(options, &store).ok());
    store->NextSequence();
    last = store->NextSequence();
    BOOST_REQUIRE(PutMeta(store.get(), kMetaLastSequence,
                          std::to_string(store->LastSequence()))
                      .ok());
  }

  std::unique_ptr<Store> store;
  BOOST_REQUIRE(Store::Open(options, &store).ok());
  BOOST_TEST(store->LastSequence() == last);
  BOOST_TEST(store->NextSequence() == last + 1);
}

BOOST_AUTO_TEST_CASE(second_primary_busy) {
  TempDir dir;
  StoreOptions options = OptionsFor(dir.path().string());
  std::unique_ptr<Store> first;
  BOOST_REQUIRE(Store::Open(options, &first).ok());

  std::unique_ptr<Store> second;
  Status status = Store::Open(options, &second);
  BOOST_TEST((status.code() == Status::Code::kBusy));
  BOOST_TEST(status.message().find("in use by another process") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(secondary_sees_primary_writes) {
  TempDir dir;
  StoreOptions options = OptionsFor(dir.Sub("db"));
  std::filesystem::create_directory(options.path);
  std::unique_ptr<Store> primary;
  BOOST_REQUIRE(Store::Open(options, &primary).ok());

  StoreOptions secondary_options = options;
  secondary_options.secondary = true;
  secondary_options.secondary_path = dir.Sub("secondary");
  std::unique_ptr<Store> secondary;
  Status status = Store::Open(secondary_options, &secondary);
  BOOST_TEST_REQUIRE(status.ok(), status.message());

  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(batch.Put(primary->handle(Family::kJobs), "job", "1").ok());
  BOOST_REQUIRE(primary->Write(&batch, true).ok());

  std::string value;
  BOOST_TEST(secondary->Get(Family::kJobs, "job", &value).IsNotFound());
  BOOST_TEST(primary->CatchUp().ok());
  BOOST_TEST(secondary->CatchUp().ok());
  BOOST_TEST(secondary->Get(Family::kJobs, "job", &value).ok());
  BOOST_TEST(value == "1");
}

BOOST_AUTO_TEST_CASE(secondary_of_empty_dir_rejected) {
  TempDir dir;
  StoreOptions options = OptionsFor(dir.Sub("db"));
  std::filesystem::create_directory(options.path);
  options.secondary = true;
  options.secondary_path = dir.Sub("secondary");
  std::unique_ptr<Store> store;
  Status status = Store::Open(options, &store);
  BOOST_TEST((status.code() == Status::Code::kInvalidArgument));
}

BOOST_AUTO_TEST_CASE(flush_and_compact_keep_data) {
  TempDir dir;
  std::unique_ptr<Store> store;
  BOOST_REQUIRE(Store::Open(OptionsFor(dir.path().string()), &store).ok());
  rocksdb::WriteBatch batch;
  std::string body(64 << 10, 'b');  // above the blob threshold of deliveries
  BOOST_REQUIRE(batch.Put(store->handle(Family::kDeliveries), "d", body).ok());
  BOOST_REQUIRE(store->Write(&batch, false).ok());

  BOOST_TEST(store->Flush().ok());
  BOOST_TEST(store->CompactFamily(Family::kDeliveries).ok());
  std::string value;
  BOOST_TEST(store->Get(Family::kDeliveries, "d", &value).ok());
  BOOST_TEST(value == body);
}

BOOST_AUTO_TEST_CASE(corrupt_meta_reported) {
  for (Damage damage : {Damage::kDataBlock, Damage::kMetadataBlock}) {
    BOOST_TEST_CONTEXT("damage " << static_cast<int>(damage)) {
      TempDir dir;
      StoreOptions options = OptionsFor(dir.Sub("db"));
      std::filesystem::create_directory(options.path);
      {
        // Closed before the damage, with meta flushed into a table file.
        std::unique_ptr<Store> writer;
        BOOST_REQUIRE(Store::Open(options, &writer).ok());
        BOOST_REQUIRE(PutMeta(writer.get(), kMetaLastSequence, "7").ok());
        BOOST_REQUIRE(writer->Flush().ok());
      }
      CorruptTableFiles(options.path, damage);

      StoreOptions secondary_options = options;
      secondary_options.secondary = true;
      secondary_options.secondary_path = dir.Sub("secondary");
      for (const StoreOptions& opening : {options, secondary_options}) {
        std::unique_ptr<Store> store;
        Status status = Store::Open(opening, &store);
        const std::string& message = status.message();
        BOOST_TEST((status.code() == Status::Code::kCorruption), message);
        BOOST_TEST(message.find("checksum mismatch") != std::string::npos,
                   message);
        BOOST_TEST(message.find(".sst") != std::string::npos, message);
        BOOST_TEST(message.find("restore " + options.path + " from a backup") !=
                       std::string::npos,
                   message);
        BOOST_TEST(message.find("not a terra-sync store") == std::string::npos,
                   message);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::store
