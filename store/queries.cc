#include "store/queries.h"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <array>
#include <memory>
#include <set>
#include <vector>

#include "store/keys.h"
#include "store/rocksdb_status.h"
#include "store/store.h"

namespace terra::store {
namespace {

// Types whose natural id is their date, and session types indexed by date in
// `sessions_by_date`; DeliveryApplier keys records the same way.
constexpr std::array<std::string_view, 4> kPerDateTypes = {
    "daily", "body", "nutrition", "menstruation"};
constexpr std::array<std::string_view, 3> kSessionTypes = {
    "activity", "sleep", "health_observation"};

bool IsPerDateType(std::string_view type) {
  return std::find(kPerDateTypes.begin(), kPerDateTypes.end(), type) !=
         kPerDateTypes.end();
}

bool IsSessionType(std::string_view type) {
  return std::find(kSessionTypes.begin(), kSessionTypes.end(), type) !=
         kSessionTypes.end();
}

bool HasDateFilter(const RecordFilter& filter) {
  return !filter.from_date.empty() || !filter.to_date.empty();
}

bool DateInRange(std::string_view date, const RecordFilter& filter) {
  if (!HasDateFilter(filter)) {
    return true;
  }
  if (date.empty()) {
    return false;
  }
  return (filter.from_date.empty() || date >= filter.from_date) &&
         (filter.to_date.empty() || date <= filter.to_date);
}

std::string_view ToView(const rocksdb::Slice& slice) {
  return std::string_view(slice.data(), slice.size());
}

// Record visitor shared by the walks below: decodes, materializes and
// filters each record before calling `visit`.
class RecordVisitor {
 public:
  RecordVisitor(
      const RecordFilter& filter,
      const std::function<bool(const RecordView&)>& visit,
      const std::function<void(std::string_view, std::string_view)>&
          on_malformed)
      : filter_(filter), visit_(visit), on_malformed_(on_malformed) {}

  // Visits the record stored under `key` if it passes the filter and, when
  // `required_date` is not empty, its current date is `required_date`.
  // Returns false to stop the walk.
  bool Visit(std::string_view key, std::string_view value,
             std::string_view required_date) {
    RecordKeyParts parts;
    if (!ParseRecordKey(key, &parts)) {
      Malformed(key, "key is not connection/type/natural id");
      return true;
    }
    if (!DecodeEnvelope(value, &envelope_)) {
      Malformed(key, "value is not a record envelope");
      return true;
    }
    if (!MaterializeItem(&envelope_)) {
      Malformed(key, "item JSON is not an object");
      return true;
    }
    if (!Matches(parts, envelope_) ||
        (!required_date.empty() && envelope_.date != required_date)) {
      return true;
    }
    return visit_({parts.connection, parts.type, parts.natural_id, &envelope_});
  }

 private:
  bool Matches(const RecordKeyParts& parts, const Envelope& envelope) const {
    if ((!filter_.connection_id.empty() &&
         parts.connection != filter_.connection_id) ||
        (!filter_.type.empty() && parts.type != filter_.type) ||
        (!filter_.natural_id.empty() &&
         parts.natural_id != filter_.natural_id)) {
      return false;
    }
    std::string_view date =
        IsPerDateType(parts.type) ? parts.natural_id : envelope.date;
    return DateInRange(date, filter_);
  }

  void Malformed(std::string_view key, std::string_view reason) const {
    if (on_malformed_) {
      on_malformed_(key, reason);
    }
  }

  const RecordFilter& filter_;
  const std::function<bool(const RecordView&)>& visit_;
  const std::function<void(std::string_view, std::string_view)>&
      on_malformed_;
  // Decoded anew for each record; kept so that its strings keep their
  // capacity across a walk of millions of records.
  Envelope envelope_;
};

// Walks `records` under the narrowest prefix the filter allows.
Status WalkRecords(const Store& store, const RecordFilter& filter,
                   RecordVisitor* visitor) {
  std::string prefix;
  if (!filter.connection_id.empty()) {
    prefix = RecordPrefix(filter.connection_id, filter.type);
  }
  // A per-date type's natural id is its date, so the walk can start there.
  std::string start = prefix;
  if (!prefix.empty() && IsPerDateType(filter.type)) {
    start += filter.from_date;
  }

  // A walk of the whole family reads every file from end to end; a
  // connection's records are a few blocks, which read-ahead would waste.
  std::unique_ptr<rocksdb::Iterator> it =
      prefix.empty() ? store.NewScanIterator(Family::kRecords)
                     : store.NewIterator(Family::kRecords);
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view key = ToView(it->key());
    if (!key.starts_with(prefix)) {
      break;
    }
    if (!visitor->Visit(key, ToView(it->value()), {})) {
      break;
    }
  }
  return FromRocksDb(it->status(), "reading records");
}

// Walks `sessions_by_date` for a session type and date range, and visits
// each indexed record whose current date is the indexed one.
Status WalkSessionIndex(const Store& store, const RecordFilter& filter,
                        RecordVisitor* visitor) {
  std::string prefix;
  std::string start;
  if (!filter.connection_id.empty()) {
    prefix = SessionIndexPrefix(filter.connection_id, filter.type);
    start = prefix + filter.from_date;
  }

  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Family::kSessionsByDate);
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view index_key = ToView(it->key());
    SessionIndexKeyParts parts;
    if (!index_key.starts_with(prefix)) {
      break;
    }
    if (!ParseSessionIndexKey(index_key, &parts) || parts.type != filter.type ||
        !DateInRange(parts.date, filter)) {
      continue;
    }

    std::string key = RecordKey(parts.connection, parts.type, parts.summary_id);
    std::string value;
    Status status = store.Get(Family::kRecords, key, &value);
    if (status.IsNotFound()) {
      continue;
    }
    if (!status.ok()) {
      return status;
    }
    if (!visitor->Visit(key, value, parts.date)) {
      break;
    }
  }
  return FromRocksDb(it->status(), "reading sessions_by_date");
}

// Appends the ids of connections merged into `connection_id`: connections
// that data for a new user id created before the `user_reauth` event tied
// that id to `connection_id`. Their records stay under their own id.
Status AddMergedConnections(const Store& store, const std::string& connection_id,
                            std::vector<std::string>* connection_ids) {
  std::string value;
  Status status = store.Get(Family::kConnections, connection_id, &value);
  if (status.IsNotFound()) {
    return Status::Ok();
  }
  Connection connection;
  if (!status.ok() || !DecodeConnection(value, &connection)) {
    return status.ok() ? Status::Corruption("connection " + connection_id +
                                            " in store " + store.path() +
                                            " is malformed")
                       : status;
  }
  for (const std::string& user_id : connection.user_ids) {
    if (user_id == connection_id) {
      continue;
    }
    std::string merged;
    Status found = store.Get(Family::kConnections, user_id, &merged);
    Connection other;
    if (found.ok() && DecodeConnection(merged, &other) &&
        other.Field(kFieldState) == kStateMerged) {
      connection_ids->push_back(user_id);
    }
  }
  return Status::Ok();
}

// Appends the connections that have filter.reference_id and, when
// filter.connection_id is set, are that connection.
Status AddReferencedConnections(const Store& store, const RecordFilter& filter,
                                std::vector<std::string>* connection_ids) {
  if (filter.connection_id.empty()) {
    return ForEachConnection(
        store, [&](std::string_view id, const Connection& connection) {
          if (HasReferenceId(connection, filter.reference_id)) {
            connection_ids->emplace_back(id);
          }
          return true;
        });
  }

  std::string value;
  Status status = store.Get(Family::kConnections, filter.connection_id, &value);
  if (status.IsNotFound()) {
    return Status::Ok();
  }
  if (!status.ok()) {
    return status;
  }
  Connection connection;
  if (!DecodeConnection(value, &connection)) {
    return Status::Corruption("connection " + filter.connection_id +
                              " in store " + store.path() + " is malformed");
  }
  if (HasReferenceId(connection, filter.reference_id)) {
    connection_ids->push_back(filter.connection_id);
  }
  return Status::Ok();
}

// Sets `*connection_ids` to the connections whose records `filter` selects,
// merged ones included, each once. An empty id stands for all connections.
Status SelectConnections(const Store& store, const RecordFilter& filter,
                         std::vector<std::string>* connection_ids) {
  if (filter.reference_id.empty()) {
    connection_ids->push_back(filter.connection_id);
  } else if (Status status =
                 AddReferencedConnections(store, filter, connection_ids);
             !status.ok()) {
    return status;
  }

  size_t selected = connection_ids->size();
  for (size_t i = 0; i < selected; ++i) {
    std::string connection_id = (*connection_ids)[i];
    if (connection_id.empty()) {
      continue;
    }
    if (Status status =
            AddMergedConnections(store, connection_id, connection_ids);
        !status.ok()) {
      return status;
    }
  }

  // A merged connection can carry the reference id too; walk it once.
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (const std::string& id : *connection_ids) {
    if (seen.insert(id).second) {
      unique.push_back(id);
    }
  }
  *connection_ids = std::move(unique);
  return Status::Ok();
}

}  // namespace

bool HasReferenceId(const Connection& connection,
                    std::string_view reference_id) {
  return reference_id.empty() ||
         connection.Field(kFieldReferenceId) == reference_id;
}

Status ResolveConnection(const Store& store, std::string_view user_id,
                         std::string* connection_id) {
  if (!IsValidKeyComponent(user_id)) {
    return Status::NotFound("user id \"" + std::string(user_id) +
                            "\" is not a valid user id");
  }
  Status status = store.Get(Family::kUserIds, user_id, connection_id);
  if (status.IsNotFound()) {
    return Status::NotFound("user id " + std::string(user_id) +
                            " is not in the store");
  }
  return status;
}

Status ForEachConnection(
    const Store& store,
    const std::function<bool(std::string_view connection_id,
                             const Connection& connection)>& visit,
    const std::function<void(std::string_view connection_id)>& on_malformed) {
  std::unique_ptr<rocksdb::Iterator> it =
      store.NewIterator(Family::kConnections);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Connection connection;
    if (!DecodeConnection(ToView(it->value()), &connection)) {
      if (!on_malformed) {
        return Status::Corruption("connection " + it->key().ToString() +
                                  " in store " + store.path() +
                                  " is malformed");
      }
      on_malformed(ToView(it->key()));
      continue;
    }
    if (!visit(ToView(it->key()), connection)) {
      break;
    }
  }
  return FromRocksDb(it->status(), "reading connections");
}

Status ForEachRecord(
    const Store& store, const RecordFilter& filter,
    const std::function<bool(const RecordView& record)>& visit,
    const std::function<void(std::string_view key, std::string_view reason)>&
        on_malformed) {
  std::vector<std::string> connection_ids;
  if (Status status = SelectConnections(store, filter, &connection_ids);
      !status.ok()) {
    return status;
  }

  bool stopped = false;
  std::function<bool(const RecordView&)> watched =
      [&visit, &stopped](const RecordView& record) {
        stopped = !visit(record);
        return !stopped;
      };
  for (const std::string& connection_id : connection_ids) {
    RecordFilter narrowed = filter;
    narrowed.connection_id = connection_id;
    RecordVisitor visitor(narrowed, watched, on_malformed);
    Status status = IsSessionType(filter.type) && HasDateFilter(filter)
                        ? WalkSessionIndex(store, narrowed, &visitor)
                        : WalkRecords(store, narrowed, &visitor);
    if (!status.ok() || stopped) {
      return status;
    }
  }
  return Status::Ok();
}

Status ForEachJob(
    const Store& store,
    const std::function<bool(uint64_t job_id, std::string_view job_json)>&
        visit) {
  std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(Family::kJobs);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t job_id = 0;
    if (!DecodeSequenceKey(ToView(it->key()), &job_id)) {
      return Status::Corruption("a key of jobs in store " + store.path() +
                                " is not a sequence number");
    }
    if (!visit(job_id, ToView(it->value()))) {
      break;
    }
  }
  return FromRocksDb(it->status(), "reading jobs");
}

}  // namespace terra::store
