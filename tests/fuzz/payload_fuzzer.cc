// Fuzzes the payload-to-writes code (DeliveryApplier) with the input as a
// signed webhook body. Whatever the body, Apply must succeed, and every
// merge it writes to `records` must be a well-formed envelope whose item is
// a JSON object, one per counted record.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <boost/json.hpp>
#include <string>

#include "store/delivery_applier.h"
#include "store/envelope.h"
#include "store/store.h"
#include "tests/fuzz/fuzz_store.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using terra::fuzz::FuzzCheck;
namespace store = terra::store;

constexpr int64_t kReceivedMs = 1767225600000;  // 2026-01-01T00:00:00Z

// Counts and checks the merges a batch writes to the records family.
class RecordChecker : public rocksdb::WriteBatch::Handler {
 public:
  explicit RecordChecker(uint32_t records_id) : records_id_(records_id) {}

  rocksdb::Status MergeCF(uint32_t id, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
    if (id != records_id_) return rocksdb::Status::OK();
    ++merges_;
    store::Envelope envelope;
    FuzzCheck(store::DecodeEnvelope(value.ToStringView(), &envelope),
              "a record merge is a well-formed envelope");
    boost::system::error_code error;
    boost::json::value item = boost::json::parse(envelope.item_json, error);
    FuzzCheck(!error && item.is_object(), "a record item is a JSON object");
    FuzzCheck(envelope.ordering_ms == kReceivedMs,
              "a record carries the delivery's ordering time");
    return rocksdb::Status::OK();
  }

  rocksdb::Status PutCF(uint32_t, const rocksdb::Slice&,
                        const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }

  size_t merges() const { return merges_; }

 private:
  uint32_t records_id_;
  size_t merges_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  store::Store* db = terra::fuzz::FuzzStore();
  static const store::DeliveryApplier applier(db, store::ApplierOptions{});

  store::Delivery delivery;
  delivery.received_ms = kReceivedMs;
  delivery.trace_id = "fuzz";
  delivery.signed_at_s = kReceivedMs / 1000;
  delivery.ordering_ms = kReceivedMs;
  delivery.body.assign(reinterpret_cast<const char*>(data), size);

  store::AppliedDelivery applied;
  store::Status status = applier.Apply(std::move(delivery), &applied);
  FuzzCheck(status.ok(), "Apply succeeds on any body");

  RecordChecker checker(db->handle(store::Family::kRecords)->GetID());
  FuzzCheck(applied.request.batch.Iterate(&checker).ok(),
            "the batch can be iterated");
  FuzzCheck(checker.merges() == applied.records,
            "one records merge per counted record");
  if (applied.outcome == store::Outcome::kArchived) {
    FuzzCheck(applied.records == 0, "an archived body writes no records");
  }
  // A data event stores its items that have an id and is quarantined for
  // the others; any other quarantined body stores nothing.
  if (applied.outcome == store::Outcome::kQuarantined && applied.records > 0) {
    FuzzCheck(applied.note.find(" items lack ") != std::string::npos,
              "a quarantined body writes records only beside items "
              "without an id");
  }
  return 0;
}
