// The embedded RocksDB store: column families, options, format version and
// the store-wide sequence counter. It knows nothing of HTTP.
//
// Thread safety: every method may be called from any thread once Open has
// returned.

#ifndef TERRA_STORE_STORE_H_
#define TERRA_STORE_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/sequence_tracker.h"
#include "store/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
class WriteBatch;
}  // namespace rocksdb

namespace terra::store {

// Column families, as listed in the store layout.
enum class Family {
  kRecords,         // connection / type / natural id -> merged envelope
  kSessionsByDate,  // connection / type / date / summary id -> empty
  kDeliveries,      // sequence (big-endian) -> DeliveryRecord
  kDedup,           // trace id -> DedupEntry
  kConnections,     // connection id -> merged Connection
  kUserIds,         // Terra user id -> connection id
  kJobs,            // job sequence (big-endian) -> job JSON
  kMeta,            // name -> value
};

// Returns the column family name of `family`, for example "records".
std::string_view FamilyName(Family family);

// Format version this build writes. A store with a greater version is
// rejected at open with Status::kNewerFormat.
inline constexpr int kFormatVersion = 1;

// Names of entries in the `meta` family.
inline constexpr std::string_view kMetaFormatVersion = "format_version";
inline constexpr std::string_view kMetaLastSequence = "last_sequence";
// The delivery watermark (see SequenceTracker), decimal ASCII: every
// delivery with a sequence at or below it is committed or never will be.
// The committer writes it with each group; a store last written by a build
// without it has none.
inline constexpr std::string_view kMetaDeliveryWatermark = "delivery_watermark";
inline constexpr std::string_view kMetaLastHealthcheck = "last_healthcheck_ms";
inline constexpr std::string_view kMetaLargeRequestPrefix = "large_request/";
// First delivery sequence that retention kept, decimal ASCII. Every archive
// entry below it is deleted, and every dedup entry below it is dropped at
// its next compaction (see retention.h).
inline constexpr std::string_view kMetaDeliveriesExpiredBefore =
    "deliveries_expired_before";

// How to open a store. Sizes are in bytes.
struct StoreOptions {
  std::string path;  // directory of the store; must exist

  // Shared LRU block cache for all column families.
  size_t block_cache_bytes = 32 << 20;

  // Memtable size per column family before a flush.
  size_t write_buffer_bytes = 16 << 20;

  // Merge operands of one key that a memtable collects before a write merges
  // them, so a date re-delivered all day still reads in one step.
  size_t max_successive_merges = 16;

  // Bulk load by one offline writer (replay --into): writes skip the
  // write-ahead log and all families flush together, so a crash keeps whole
  // batches up to the last flush. The writer must call Flush() before it
  // reports success. Never for the daemon, which acknowledges each write.
  bool bulk_load = false;

  // Open as a read-only secondary instance that follows a primary (which may
  // be running). `secondary_path` is a scratch directory for its own logs.
  bool secondary = false;
  std::string secondary_path;
};

class Store {
 public:
  // Opens the store at options.path. An existing empty directory becomes a
  // new store of kFormatVersion. Fails with kInvalidArgument if the directory
  // does not exist or holds something that is not a terra-sync store, kBusy if
  // another process holds its lock, kNewerFormat if it was written by a newer
  // format, and kCorruption or kIoError as RocksDB reports them. Each message
  // names the path and what to do.
  [[nodiscard]] static Status Open(const StoreOptions& options,
                                   std::unique_ptr<Store>* store);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Returns the next store-wide sequence number. Numbers are unique and
  // increase within a process and across restarts, because each commit
  // records the highest number handed out so far (see Committer).
  // For a number that names a delivery, use OpenDeliverySequence.
  uint64_t NextSequence();

  // Returns the next sequence number as an open delivery sequence, which
  // holds the delivery watermark below it until the lease is closed.
  [[nodiscard]] SequenceLease OpenDeliverySequence();

  // Returns the highest sequence number handed out so far.
  uint64_t LastSequence() const;

  // The tracker of open delivery sequences, for the committer.
  const SequenceTracker& sequences() const { return *sequences_; }

  // Reads one value. Returns NotFound if `key` is absent.
  [[nodiscard]] Status Get(Family family, std::string_view key,
                           std::string* value) const;

  // Writes a batch; `sync` makes it durable before returning. A store opened
  // for a bulk load ignores `sync`: its writes become durable at Flush().
  [[nodiscard]] Status Write(rocksdb::WriteBatch* batch, bool sync);

  // A new iterator over `family`; the caller owns it.
  std::unique_ptr<rocksdb::Iterator> NewIterator(Family family) const;

  // A new iterator for a walk over many keys of `family`, such as a dump:
  // it reads files ahead in large steps and leaves the block cache to the
  // daemon's point reads. The caller owns it.
  std::unique_ptr<rocksdb::Iterator> NewScanIterator(Family family) const;

  // For a secondary instance: reads what the primary wrote since the last
  // call. A no-op for a primary.
  [[nodiscard]] Status CatchUp();

  // Flushes every memtable to disk and waits; used by tests and shutdown.
  [[nodiscard]] Status Flush();

  // Compacts the whole key range of `family`; used by tests.
  [[nodiscard]] Status CompactFamily(Family family);

  // Bytes of the files in the store directory (SST, blob, WAL, manifest),
  // summed at the time of the call. Returns 0 if the directory cannot be
  // read.
  uint64_t SizeOnDisk() const;

  // The first delivery sequence that retention kept; 0 before any expiry.
  uint64_t deliveries_expired_before() const {
    return deliveries_expired_before_->load();
  }

  // Records that every delivery below `sequence` has expired, for the dedup
  // family's compaction filter. Only for ExpireDeliveries, after it wrote
  // kMetaDeliveriesExpiredBefore.
  void SetDeliveriesExpiredBefore(uint64_t sequence) {
    deliveries_expired_before_->store(sequence);
  }

  // The format version recorded in the store.
  int format_version() const { return format_version_; }
  const std::string& path() const { return path_; }

  // Low-level access for the store library's own components.
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(Family family) const;

 private:
  Store() = default;

  std::string path_;
  int format_version_ = 0;
  bool bulk_load_ = false;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // indexed by Family
  std::unique_ptr<SequenceTracker> sequences_;
  std::shared_ptr<std::atomic<uint64_t>> deliveries_expired_before_ =
      std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace terra::store

#endif  // TERRA_STORE_STORE_H_
