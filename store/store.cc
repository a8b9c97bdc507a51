// Opening, creating and tuning the RocksDB store.
//
// The `meta` family stores format_version and last_sequence as decimal ASCII
// strings (for example "1" and "42"), so that a dump shows them as they are.

#include "store/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

#include "store/creation_marker.h"
#include "store/merge_operators.h"
#include "store/retention.h"
#include "store/rocksdb_logger.h"
#include "store/rocksdb_status.h"

namespace terra::store {
namespace {

constexpr size_t kFamilyCount = static_cast<size_t>(Family::kMeta) + 1;

// Bloom filter bits per key: about a 1% false positive rate for point reads
// of `records` and `dedup`.
constexpr double kBloomBitsPerKey = 10;

// Read-ahead of scan iterators: large enough that a walk of a whole family
// reads each file in a few system calls.
constexpr size_t kScanReadahead = 2 << 20;

// Maximum time a `dedup` table file goes without a compaction, which is when
// its expired entries are dropped.
constexpr uint64_t kDedupPeriodicCompactionS = 24 * 60 * 60;

std::string NotAStoreMessage(const std::string& path, std::string_view why) {
  return path + " is not a terra-sync store (" + std::string(why) +
         "); point the store path at an empty directory or an existing store";
}

// Checks that `path` is a directory and sets `*empty` if it has no entries.
Status InspectDirectory(const std::string& path, bool* empty) {
  std::error_code error;
  if (std::filesystem::exists(path, error) &&
      !std::filesystem::is_directory(path, error)) {
    return Status::InvalidArgument(
        "store path " + path +
        " is not a directory; point --store at a directory (an empty one "
        "becomes a new store)");
  }
  if (!std::filesystem::is_directory(path, error)) {
    return Status::InvalidArgument(
        "store directory " + path +
        " does not exist; create it, owned by the user that terra-syncd runs "
        "as, and start again");
  }

  *empty = std::filesystem::is_empty(path, error);
  if (error) {
    return Status::IoError("failed to list store directory " + path + ": " +
                           error.message());
  }
  return Status::Ok();
}

bool ParseDecimal(std::string_view text, uint64_t* value) {
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, *value);
  return !text.empty() && error == std::errc() && ptr == end;
}

rocksdb::ColumnFamilyOptions FamilyOptions(
    Family family, const StoreOptions& options,
    const std::shared_ptr<rocksdb::TableFactory>& table_factory,
    const std::shared_ptr<const std::atomic<uint64_t>>& expired_before) {
  rocksdb::ColumnFamilyOptions cf;
  cf.compaction_style = rocksdb::kCompactionStyleLevel;
  cf.write_buffer_size = options.write_buffer_bytes;
  cf.table_factory = table_factory;

  switch (family) {
    case Family::kRecords:
      cf.merge_operator = NewRecordMergeOperator();
      cf.max_successive_merges = options.max_successive_merges;
      break;
    case Family::kConnections:
      cf.merge_operator = NewConnectionMergeOperator();
      break;
    case Family::kDeliveries:
      // NOTE: raw bodies stay in the LSM tree, so compaction rewrites them.
      // Blob files would avoid that, but a secondary instance of Debian's
      // RocksDB 7.8 crashes reading blob values (BlobSource::GetBlob), and
      // terra-syncctl reads the archive through one.
      cf.enable_blob_files = false;
      break;
    case Family::kDedup:
      // Trace ids are random keys, so compactions reach every file, and a
      // daily rewrite of this small family bounds how long an expired
      // entry stays.
      cf.compaction_filter_factory =
          NewDedupExpiryFilterFactory(expired_before);
      cf.periodic_compaction_seconds = kDedupPeriodicCompactionS;
      break;
    default:
      break;
  }
  return cf;
}

// Descriptors of every Family in Family order, then "default", then the
// `extra_families` found in an existing store.
std::vector<rocksdb::ColumnFamilyDescriptor> Descriptors(
    const StoreOptions& options, const std::vector<std::string>& extra_families,
    const std::shared_ptr<const std::atomic<uint64_t>>& expired_before) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey));
  std::shared_ptr<rocksdb::TableFactory> table_factory(
      rocksdb::NewBlockBasedTableFactory(table));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (size_t i = 0; i < kFamilyCount; ++i) {
    Family family = static_cast<Family>(i);
    descriptors.emplace_back(
        std::string(FamilyName(family)),
        FamilyOptions(family, options, table_factory, expired_before));
  }
  // The default family stores nothing, but RocksDB's default 64 MiB memtable
  // would set the free space it waits for before it resumes writing after a
  // full disk; its memtable is sized like the others.
  rocksdb::ColumnFamilyOptions default_options;
  default_options.table_factory = table_factory;
  default_options.write_buffer_size = options.write_buffer_bytes;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, default_options);
  for (const std::string& name : extra_families) {
    descriptors.emplace_back(name, default_options);
  }
  return descriptors;
}

// Handles the marker of a store creation that did not finish (see
// creation_marker.h). A primary removes the partial files and sets `*empty`,
// so the store is created again. A secondary reports the marker.
Status FinishInterruptedCreation(const StoreOptions& options, bool* empty) {
  if (options.secondary) {
    if (!std::filesystem::exists(options.path + "/" + kCreationMarkerName)) {
      return Status::Ok();
    }
    return Status::InvalidArgument(
        "store " + options.path +
        " is being created, or its creation was interrupted; start "
        "terra-syncd or replay --into on it to finish it");
  }

  bool cleared = false;
  Status status = ClearInterruptedCreation(options.path, &cleared);
  if (cleared) {
    spdlog::warn("store {}: its creation was interrupted; creating it again",
                 options.path);
    *empty = true;
  }
  return status;
}

// Checks that the RocksDB database at `path` has every family of this build,
// and lists in `*extra_families` those it does not know. A primary must open
// every family, and opening them lets a store of a newer format that added
// families reach the format version check.
Status CheckFamilies(const std::string& path,
                     std::vector<std::string>* extra_families) {
  std::vector<std::string> names;
  rocksdb::Status status =
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!status.ok()) return FromRocksDb(status, "read store " + path);

  for (size_t i = 0; i < kFamilyCount; ++i) {
    std::string_view name = FamilyName(static_cast<Family>(i));
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return Status::InvalidArgument(NotAStoreMessage(
          path, "it has no column family " + std::string(name)));
    }
  }

  for (const std::string& name : names) {
    bool known = name == rocksdb::kDefaultColumnFamilyName;
    for (size_t i = 0; i < kFamilyCount && !known; ++i) {
      known = name == FamilyName(static_cast<Family>(i));
    }
    if (!known) extra_families->push_back(name);
  }
  return Status::Ok();
}

// Opens the database with every family. `handles` follow the order of
// Descriptors.
Status OpenDb(
    const StoreOptions& options, bool creating,
    const std::vector<std::string>& extra_families,
    const std::shared_ptr<const std::atomic<uint64_t>>& expired_before,
    rocksdb::DB** db, std::vector<rocksdb::ColumnFamilyHandle*>* handles) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = creating;
  db_options.create_missing_column_families = creating;
  if (!options.secondary) {
    // Without a write-ahead log, only an atomic flush keeps the writes of
    // one batch to several families together across a crash.
    db_options.atomic_flush = options.bulk_load;
    // Not the LOG file in the store directory: on a full file system it
    // aborts the process (see rocksdb_logger.h).
    db_options.info_log = NewSpdlogRocksDbLogger();
    rocksdb::Status status = rocksdb::DB::Open(
        db_options, options.path,
        Descriptors(options, extra_families, expired_before), handles, db);
    return FromRocksDb(status, "open store " + options.path);
  }

  // A secondary instance must keep every table file open to follow the
  // primary's compactions.
  db_options.max_open_files = -1;
  std::error_code error;
  std::filesystem::create_directories(options.secondary_path, error);
  rocksdb::Status status = rocksdb::DB::OpenAsSecondary(
      db_options, options.path, options.secondary_path,
      Descriptors(options, extra_families, expired_before), handles, db);
  return FromRocksDb(status, "open store " + options.path +
                                 " as a secondary instance in " +
                                 options.secondary_path);
}

Status ReadMetaNumber(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                      std::string_view name, uint64_t* value) {
  std::string bytes;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), meta, name, &bytes);
  if (!status.ok()) {
    return FromRocksDb(status, "read meta " + std::string(name));
  }
  if (!ParseDecimal(bytes, value)) {
    return Status::Corruption("meta " + std::string(name) +
                              " is not a decimal number: '" + bytes + "'");
  }
  return Status::Ok();
}

// Appends what to do to a Corruption from opening or reading the store at
// `path`. Other statuses are returned unchanged.
Status WithRestoreHint(Status status, const std::string& path) {
  if (status.code() != Status::Code::kCorruption) return status;
  return Status::Corruption(status.message() +
                            "; the store's files are damaged: restore " + path +
                            " from a backup");
}

// Explains a missing format version. A secondary instance of RocksDB 7.8
// opens a store even when a table file fails its checks, and then reads the
// keys of that file as absent (store_test corrupt_meta_reported shows it).
// So each table file in the directory is checked, and a damaged one is
// reported rather than "not a store".
Status MissingFormatVersion(const std::string& path) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    if (entry.path().extension() != ".sst") continue;
    rocksdb::SstFileReader reader{rocksdb::Options()};
    rocksdb::Status status = reader.Open(entry.path().string());
    if (status.ok()) status = reader.VerifyChecksum();
    if (!status.ok()) {
      return FromRocksDb(status, "verify table file " + entry.path().string());
    }
  }
  return Status::InvalidArgument(
      NotAStoreMessage(path, "it records no format version"));
}

// Reads format_version and last_sequence of an existing store and checks
// that this build can read it.
Status LoadMeta(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                const std::string& path, uint64_t* format_version,
                uint64_t* last_sequence) {
  Status status = ReadMetaNumber(db, meta, kMetaFormatVersion, format_version);
  if (status.IsNotFound()) {
    return WithRestoreHint(MissingFormatVersion(path), path);
  }
  if (!status.ok()) return WithRestoreHint(status, path);
  if (*format_version > static_cast<uint64_t>(kFormatVersion)) {
    return Status::NewerFormat(
        "store " + path + " has format version " +
        std::to_string(*format_version) + ", this build reads up to " +
        std::to_string(kFormatVersion) + "; upgrade terra-sync");
  }

  // A store that never committed anything has no last_sequence yet.
  *last_sequence = 0;
  status = ReadMetaNumber(db, meta, kMetaLastSequence, last_sequence);
  return status.IsNotFound() ? Status::Ok() : WithRestoreHint(status, path);
}

Status InitializeMeta(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                      const std::string& path) {
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status status = db->Put(options, meta, kMetaFormatVersion,
                                   std::to_string(kFormatVersion));
  return FromRocksDb(status, "initialize new store " + path);
}

}  // namespace

std::string_view FamilyName(Family family) {
  switch (family) {
    case Family::kRecords:
      return "records";
    case Family::kSessionsByDate:
      return "sessions_by_date";
    case Family::kDeliveries:
      return "deliveries";
    case Family::kDedup:
      return "dedup";
    case Family::kConnections:
      return "connections";
    case Family::kUserIds:
      return "user_ids";
    case Family::kJobs:
      return "jobs";
    case Family::kMeta:
      return "meta";
  }
  return "unknown";
}

Status Store::Open(const StoreOptions& options, std::unique_ptr<Store>* store) {
  if (options.secondary && options.secondary_path.empty()) {
    return Status::InvalidArgument(
        "opening store " + options.path +
        " as a secondary instance requires a secondary_path");
  }
  bool empty = false;
  Status status = InspectDirectory(options.path, &empty);
  if (!status.ok()) return status;
  status = FinishInterruptedCreation(options, &empty);
  if (!status.ok()) return status;

  // Only a primary turns an empty directory into a store. Anything else must
  // already be a RocksDB database with our families.
  bool creating = empty && !options.secondary;
  std::vector<std::string> extra_families;
  if (!creating) {
    if (!std::filesystem::exists(options.path + "/CURRENT")) {
      return Status::InvalidArgument(
          NotAStoreMessage(options.path, "it holds no RocksDB database"));
    }
    status = CheckFamilies(options.path, &extra_families);
    if (!status.ok()) return status;
  }

  std::unique_ptr<CreationMarker> marker;
  if (creating) {
    status = CreationMarker::Begin(options.path, &marker);
    if (!status.ok()) return status;
  }

  rocksdb::DB* db = nullptr;
  std::unique_ptr<Store> opened(new Store());
  opened->path_ = options.path;
  opened->bulk_load_ = options.bulk_load && !options.secondary;
  status = OpenDb(options, creating, extra_families,
                  opened->deliveries_expired_before_, &db, &opened->handles_);
  if (!status.ok()) return WithRestoreHint(status, options.path);
  opened->db_.reset(db);

  uint64_t format_version = kFormatVersion;
  uint64_t last_sequence = 0;
  rocksdb::ColumnFamilyHandle* meta = opened->handle(Family::kMeta);
  status = creating ? InitializeMeta(db, meta, options.path)
                    : LoadMeta(db, meta, options.path, &format_version,
                               &last_sequence);
  if (marker) status = marker->Finish();
  if (!status.ok()) return status;
  opened->format_version_ = static_cast<int>(format_version);
  opened->sequences_ = std::make_unique<SequenceTracker>(last_sequence);

  // Until retention first runs, the dedup filter keeps every entry.
  uint64_t expired_before = 0;
  status =
      ReadMetaNumber(db, meta, kMetaDeliveriesExpiredBefore, &expired_before);
  if (!status.ok() && !status.IsNotFound()) {
    return WithRestoreHint(status, options.path);
  }
  opened->SetDeliveriesExpiredBefore(expired_before);

  *store = std::move(opened);
  return Status::Ok();
}

Store::~Store() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    db_->DestroyColumnFamilyHandle(handle);
  }
  db_->Close().PermitUncheckedError();
}

uint64_t Store::NextSequence() { return sequences_->Next(); }

SequenceLease Store::OpenDeliverySequence() {
  return sequences_->OpenDelivery();
}

uint64_t Store::LastSequence() const { return sequences_->Last(); }

Status Store::Get(Family family, std::string_view key,
                  std::string* value) const {
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), handle(family), key, value);
  if (status.IsNotFound()) return Status::NotFound("");
  return FromRocksDb(status, "read " + std::string(FamilyName(family)) +
                                 " from store " + path_);
}

Status Store::Write(rocksdb::WriteBatch* batch, bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync && !bulk_load_;
  options.disableWAL = bulk_load_;
  return FromRocksDb(db_->Write(options, batch), "write to store " + path_);
}

std::unique_ptr<rocksdb::Iterator> Store::NewIterator(Family family) const {
  return std::unique_ptr<rocksdb::Iterator>(
      db_->NewIterator(rocksdb::ReadOptions(), handle(family)));
}

std::unique_ptr<rocksdb::Iterator> Store::NewScanIterator(Family family) const {
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.readahead_size = kScanReadahead;
  return std::unique_ptr<rocksdb::Iterator>(
      db_->NewIterator(options, handle(family)));
}

Status Store::CatchUp() {
  // A primary rejects TryCatchUpWithPrimary as NotSupported: nothing to do.
  rocksdb::Status status = db_->TryCatchUpWithPrimary();
  if (status.IsNotSupported()) return Status::Ok();
  if (!status.ok()) {
    return FromRocksDb(status, "catch up with the primary of store " + path_);
  }

  uint64_t format_version = 0;
  uint64_t last_sequence = 0;
  Status loaded = LoadMeta(db_.get(), handle(Family::kMeta), path_,
                           &format_version, &last_sequence);
  if (!loaded.ok()) return loaded;
  sequences_->FollowPrimary(last_sequence);
  return Status::Ok();
}

Status Store::Flush() {
  rocksdb::FlushOptions options;
  options.wait = true;
  return FromRocksDb(db_->Flush(options, handles_), "flush store " + path_);
}

Status Store::CompactFamily(Family family) {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Status status =
      db_->CompactRange(options, handle(family), nullptr, nullptr);
  return FromRocksDb(status, "compact " + std::string(FamilyName(family)) +
                                 " of store " + path_);
}

rocksdb::ColumnFamilyHandle* Store::handle(Family family) const {
  return handles_[static_cast<size_t>(family)];
}

uint64_t Store::SizeOnDisk() const {
  std::error_code error;
  uint64_t total = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(path_, error)) {
    std::error_code entry_error;
    if (entry.is_regular_file(entry_error)) {
      uint64_t size = entry.file_size(entry_error);
      total += entry_error ? 0 : size;
    }
  }
  return total;
}

}  // namespace terra::store
