#include "store/delivery_applier.h"

#include <openssl/evp.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "store/connection.h"
#include "store/json_parse.h"
#include "store/json_text.h"
#include "store/keys.h"
#include "store/store.h"

namespace terra::store {
namespace {

namespace json = boost::json;

// Rule that finds the natural id of a data item (see RecordKey).
enum class RecordKind {
  kPerDate,         // the date of metadata.start_time
  kSession,         // metadata.summary_id, indexed by date
  kPlannedWorkout,  // metadata.id
  kHormone,         // the top-level `timestamp`, as delivered
  kOther,           // summary_id, else metadata.id, else the start date
};

constexpr std::array<std::pair<std::string_view, RecordKind>, 9> kDataTypes = {{
    {"daily", RecordKind::kPerDate},
    {"body", RecordKind::kPerDate},
    {"nutrition", RecordKind::kPerDate},
    {"menstruation", RecordKind::kPerDate},
    {"activity", RecordKind::kSession},
    {"sleep", RecordKind::kSession},
    {"health_observation", RecordKind::kSession},
    {"planned_workout", RecordKind::kPlannedWorkout},
    {"hormone", RecordKind::kHormone},
}};

constexpr std::string_view kAthleteType = "athlete";
constexpr std::string_view kAthleteNaturalId = "profile";
constexpr std::string_view kLabReportPrefix = "lab_report.";

// Length of "YYYY-MM-DD" at the start of an ISO 8601 date-time.
constexpr size_t kDateLength = 10;

std::optional<RecordKind> FindDataType(std::string_view type) {
  for (const auto& [name, kind] : kDataTypes) {
    if (name == type) {
      return kind;
    }
  }
  return std::nullopt;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &digest_size, EVP_sha256(),
             nullptr);

  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest_size);
  for (unsigned int i = 0; i < digest_size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

const json::object* FindObject(const json::object& object,
                               std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr ? value->if_object() : nullptr;
}

// Returns the string member `key`, or an empty view when it is missing, null
// or not a string.
std::string_view FindString(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return {};
  }
  return value->get_string();
}

// Returns an identifier given as a string or an integer, as a string.
std::optional<std::string> FindId(const json::object& object,
                                  std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_string()) {
    return std::string(value->get_string());
  }
  if (value->is_int64() || value->is_uint64()) {
    return JsonText(*value);
  }
  return std::nullopt;
}

std::string_view MetadataString(const json::object& item,
                                std::string_view key) {
  const json::object* metadata = FindObject(item, "metadata");
  return metadata != nullptr ? FindString(*metadata, key) : std::string_view();
}

// Returns the calendar date a date-time string starts with, as delivered
// (no conversion to UTC), or an empty string.
std::string DatePrefix(std::string_view date_time) {
  std::string_view date = date_time.substr(0, kDateLength);
  return IsCalendarDate(date) ? std::string(date) : std::string();
}

// Natural id and date of one data item.
struct ItemKey {
  std::string natural_id;  // empty when the item lacks it
  std::string date;        // empty when unknown
};

ItemKey FindItemKey(RecordKind kind, const json::object& item) {
  std::string start_date = DatePrefix(MetadataString(item, "start_time"));
  const json::object* metadata = FindObject(item, "metadata");
  switch (kind) {
    case RecordKind::kPerDate:
      return {start_date, start_date};
    case RecordKind::kSession:
      return {std::string(MetadataString(item, "summary_id")), start_date};
    case RecordKind::kPlannedWorkout: {
      // NOTE: Terra's schema of a planned workout item has a top-level
      // planned_workout_id and no metadata object. metadata.id is read first,
      // and planned_workout_id keys the items that lack it.
      std::optional<std::string> id =
          metadata != nullptr ? FindId(*metadata, "id") : std::nullopt;
      if (!id) {
        id = FindId(item, "planned_workout_id");
      }
      return {id.value_or(""), DatePrefix(FindString(item, "planned_date"))};
    }
    case RecordKind::kHormone: {
      std::string_view timestamp = FindString(item, "timestamp");
      return {std::string(timestamp), DatePrefix(timestamp)};
    }
    case RecordKind::kOther:
      break;
  }

  std::optional<std::string> id;
  if (metadata != nullptr) {
    id = FindId(*metadata, "summary_id");
    if (!id) {
      id = FindId(*metadata, "id");
    }
  }
  return {id.value_or(start_date), start_date};
}

std::string_view NaturalIdField(RecordKind kind) {
  switch (kind) {
    case RecordKind::kPerDate:
      return "a calendar date in metadata.start_time";
    case RecordKind::kSession:
      return "metadata.summary_id";
    case RecordKind::kPlannedWorkout:
      return "metadata.id or planned_workout_id";
    case RecordKind::kHormone:
      return "timestamp";
    case RecordKind::kOther:
      break;
  }
  return "metadata.summary_id, metadata.id and metadata.start_time";
}

// Non-null `data_enrichment` values of an item, stamped with its copy.
std::map<std::string, EnrichmentValue, std::less<>> FindEnrichment(
    const json::object& item, int64_t ordering_ms, uint64_t sequence) {
  std::map<std::string, EnrichmentValue, std::less<>> enrichment;
  const json::object* scores = FindObject(item, "data_enrichment");
  if (scores == nullptr) {
    return enrichment;
  }
  for (const auto& [key, value] : *scores) {
    if (!value.is_null()) {
      enrichment[std::string(key)] = {ordering_ms, sequence, JsonText(value)};
    }
  }
  return enrichment;
}

// Routes one parsed body into `applied`. Each handler leaves the outcome and
// note in `applied` and adds its writes to applied->request.batch.
class Router {
 public:
  Router(Store* store, const ApplierOptions& options, const Delivery& delivery,
         AppliedDelivery* applied)
      : store_(store),
        options_(options),
        delivery_(delivery),
        applied_(applied),
        batch_(&applied->request.batch) {}

  Status Route(const json::object& body);

 private:
  using Handler = Status (Router::*)(const json::object& body);

  Status RouteAuth(const json::object& body);
  Status RouteAuthCancelled(const json::object& body);
  Status RouteRevoked(const json::object& body);
  Status RouteConnectionError(const json::object& body);
  Status RoutePermissionChange(const json::object& body);
  Status RouteUserReauth(const json::object& body);
  Status RouteLargeRequest(const json::object& body);
  Status RouteOperational(const json::object& body);
  Status RouteHealthcheck(const json::object& body);
  Status RouteS3Payload(const json::object& body);
  Status RouteAthlete(const json::object& body);
  Status RouteData(const json::object& body, RecordKind kind);
  Status RouteUnknown(const json::object& body);

  // Handlers of lifecycle events that change the connection of `user`.
  Status ChangeConnection(const json::object& body, ConnectionUpdate update);

  // Resolves body.user to its connection, creating it when unknown. Returns
  // OK with an empty connection id when the body has no usable user.
  Status ResolveUser(const json::object& body, std::string* connection_id);
  Status ResolveOrCreate(const json::object& user, std::string* connection_id);

  ConnectionUpdate NewUpdate(std::string_view event, std::string detail);
  void MergeConnection(std::string_view connection_id,
                       const ConnectionUpdate& update);
  void QueueBackfill(std::string_view connection_id, std::string_view user_id);
  // Merges one item as a record. `items_in_body` is the number of items the
  // body carries, to estimate the length of the item's JSON text.
  void MergeItem(std::string_view connection_id, const json::object& item,
                 const ItemKey& key, bool indexed, size_t items_in_body);

  Status Finish(Outcome outcome, std::string note);
  Status MissingUser();

  Store* store_;
  const ApplierOptions& options_;
  const Delivery& delivery_;
  AppliedDelivery* applied_;
  rocksdb::WriteBatch* batch_;
};

// Copies the connection fields a Terra user object carries.
void SetUserFields(const json::object& user, ConnectionUpdate* update) {
  for (std::string_view name :
       {kFieldProvider, kFieldScopes, kFieldReferenceId}) {
    std::string_view value = FindString(user, name);
    if (!value.empty()) {
      update->fields[std::string(name)] = std::string(value);
    }
  }
}

Status Router::Route(const json::object& body) {
  static constexpr std::array<std::pair<std::string_view, Handler>, 14>
      kHandlers = {{
          {"auth", &Router::RouteAuth},
          {"auth_cancelled", &Router::RouteAuthCancelled},
          {"deauth", &Router::RouteRevoked},
          {"access_revoked", &Router::RouteRevoked},
          {"connection_error", &Router::RouteConnectionError},
          {"permission_change", &Router::RoutePermissionChange},
          {"user_reauth", &Router::RouteUserReauth},
          {"large_request_processing", &Router::RouteLargeRequest},
          {"large_request_sending", &Router::RouteLargeRequest},
          {"processing", &Router::RouteOperational},
          {"rate_limit_hit", &Router::RouteOperational},
          {"google_no_datasource", &Router::RouteOperational},
          {"healthcheck", &Router::RouteHealthcheck},
          {"s3_payload", &Router::RouteS3Payload},
      }};

  std::string_view type = applied_->event_type;
  for (const auto& [name, handler] : kHandlers) {
    if (name == type) {
      return (this->*handler)(body);
    }
  }
  if (type == kAthleteType) {
    return RouteAthlete(body);
  }
  if (std::optional<RecordKind> kind = FindDataType(type)) {
    return RouteData(body, *kind);
  }
  return RouteUnknown(body);
}

Status Router::RouteAuth(const json::object& body) {
  if (FindString(body, "status") != "success") {
    return RouteAuthCancelled(body);
  }

  std::string connection_id;
  if (Status status = ResolveUser(body, &connection_id); !status.ok()) {
    return status;
  }
  if (connection_id.empty()) {
    return MissingUser();
  }

  ConnectionUpdate update = NewUpdate("auth", "");
  update.fields[std::string(kFieldState)] = std::string(kStateActive);
  SetUserFields(*FindObject(body, "user"), &update);
  MergeConnection(connection_id, update);
  QueueBackfill(connection_id, applied_->user_id);
  return Finish(Outcome::kRecorded, "connection active; backfill queued");
}

Status Router::RouteAuthCancelled(const json::object& body) {
  std::string_view reason = FindString(body, "reason");
  std::string_view reference_id = FindString(body, "reference_id");
  std::string note = "authentication failed: reason ";
  note += reason.empty() ? "unknown" : reason;
  note += ", reference_id ";
  note += reference_id.empty() ? "none" : reference_id;
  return Finish(Outcome::kRecorded, std::move(note));
}

Status Router::RouteRevoked(const json::object& body) {
  ConnectionUpdate update = NewUpdate(applied_->event_type, "");
  update.fields[std::string(kFieldState)] = std::string(kStateRevoked);
  return ChangeConnection(body, std::move(update));
}

Status Router::RouteConnectionError(const json::object& body) {
  ConnectionUpdate update = NewUpdate(applied_->event_type, "");
  update.fields[std::string(kFieldState)] = std::string(kStateError);
  return ChangeConnection(body, std::move(update));
}

Status Router::RoutePermissionChange(const json::object& body) {
  std::string_view added = FindString(body, "scopes_added");
  std::string_view removed = FindString(body, "scopes_removed");
  std::string detail = "added ";
  detail += added.empty() ? "none" : added;
  detail += " removed ";
  detail += removed.empty() ? "none" : removed;

  ConnectionUpdate update = NewUpdate(applied_->event_type, std::move(detail));
  const json::object* user = FindObject(body, "user");
  const json::value* scopes =
      user != nullptr ? user->if_contains(kFieldScopes) : nullptr;
  if (scopes != nullptr && scopes->is_string()) {
    update.fields[std::string(kFieldScopes)] =
        std::string(scopes->get_string());
  }
  return ChangeConnection(body, std::move(update));
}

Status Router::ChangeConnection(const json::object& body,
                                ConnectionUpdate update) {
  std::string connection_id;
  if (Status status = ResolveUser(body, &connection_id); !status.ok()) {
    return status;
  }
  if (connection_id.empty()) {
    return MissingUser();
  }
  MergeConnection(connection_id, update);
  return Finish(Outcome::kRecorded, "");
}

Status Router::RouteUserReauth(const json::object& body) {
  const json::object* old_user = FindObject(body, "old_user");
  const json::object* new_user = FindObject(body, "new_user");
  std::string_view new_user_id =
      new_user != nullptr ? FindString(*new_user, "user_id") : "";
  if (old_user == nullptr || !IsValidKeyComponent(new_user_id) ||
      !IsValidKeyComponent(FindString(*old_user, "user_id"))) {
    return Finish(Outcome::kQuarantined,
                  "user_reauth lacks old_user.user_id or new_user.user_id");
  }

  std::string connection_id;
  if (Status status = ResolveOrCreate(*old_user, &connection_id);
      !status.ok()) {
    return status;
  }
  applied_->user_id = std::string(new_user_id);
  applied_->connection_id = connection_id;

  // Data for the new user id may have raced ahead of this event and created
  // a connection of its own. That connection is marked merged and listed
  // among this connection's ids, so readers of this connection find its
  // records too; no record moves.
  std::string early_connection;
  Status lookup = store_->Get(Family::kUserIds, new_user_id, &early_connection);
  if (!lookup.ok() && !lookup.IsNotFound()) {
    return lookup;
  }
  if (lookup.ok() && early_connection != connection_id) {
    ConnectionUpdate merged =
        NewUpdate("user_reauth", "merged into " + connection_id);
    merged.fields[std::string(kFieldState)] = std::string(kStateMerged);
    MergeConnection(early_connection, merged);
  }

  // The new user id points at the existing connection, so no record moves.
  batch_->Put(store_->handle(Family::kUserIds), new_user_id, connection_id);
  std::string detail = "old user id ";
  detail += FindString(*old_user, "user_id");
  detail += ", new user id ";
  detail += new_user_id;
  ConnectionUpdate update = NewUpdate("user_reauth", std::move(detail));
  update.fields[std::string(kFieldState)] = std::string(kStateActive);
  SetUserFields(*new_user, &update);
  update.user_ids.push_back(std::string(new_user_id));
  if (lookup.ok() && early_connection != connection_id) {
    update.user_ids.push_back(early_connection);
  }
  MergeConnection(connection_id, update);
  return Finish(Outcome::kRecorded, "");
}

Status Router::RouteLargeRequest(const json::object& body) {
  std::string connection_id;
  if (Status status = ResolveUser(body, &connection_id); !status.ok()) {
    return status;
  }
  std::string_view reference = FindString(body, "reference");
  if (reference.empty()) {
    reference = delivery_.terra_reference;
  }
  if (!IsValidKeyComponent(reference)) {
    return Finish(Outcome::kQuarantined,
                  "large request event has no reference and no "
                  "terra-reference header");
  }

  // Keep the expected count of a `sending` event that arrived earlier.
  std::string key =
      std::string(kMetaLargeRequestPrefix) + std::string(reference);
  json::object tracking;
  std::string existing;
  Status read = store_->Get(Family::kMeta, key, &existing);
  if (!read.ok() && !read.IsNotFound()) {
    return read;
  }
  boost::system::error_code ec;
  json::value previous = json::parse(existing, ec);
  if (!ec && previous.is_object()) {
    if (const json::value* expected =
            previous.get_object().if_contains("expected_payloads")) {
      tracking["expected_payloads"] = *expected;
    }
  }

  if (const json::value* expected = body.if_contains("expected_payloads")) {
    tracking["expected_payloads"] = *expected;
  }
  tracking["user_id"] = applied_->user_id;
  tracking["updated_ms"] = delivery_.received_ms;
  tracking["event"] = applied_->event_type;
  batch_->Put(store_->handle(Family::kMeta), key, json::serialize(tracking));
  return Finish(Outcome::kRecorded, "");
}

Status Router::RouteOperational(const json::object& body) {
  std::string connection_id;
  if (Status status = ResolveUser(body, &connection_id); !status.ok()) {
    return status;
  }
  return Finish(Outcome::kRecorded, "");
}

Status Router::RouteHealthcheck(const json::object& body) {
  batch_->Put(store_->handle(Family::kMeta), kMetaLastHealthcheck,
              std::to_string(delivery_.received_ms));
  return Finish(Outcome::kRecorded, "");
}

Status Router::RouteS3Payload(const json::object& body) {
  // The store archives the pointer; the daemon fetches the URL and applies
  // the payload as the inline event it stands for.
  std::string_view url = FindString(body, "url");
  if (url.empty()) {
    return Finish(Outcome::kQuarantined, "s3_payload event has no url");
  }
  applied_->payload_url = std::string(url);
  // An expiry that is not a whole number of seconds within int64 (1e300,
  // 2.5) is ignored: the fetch then runs without knowing when the URL ends.
  const json::value* expires_in = body.if_contains("expires_in");
  if (expires_in != nullptr && expires_in->is_number()) {
    boost::system::error_code ec;
    int64_t seconds = expires_in->to_number<int64_t>(ec);
    if (!ec) {
      applied_->payload_expires_in_s = seconds;
    }
  }
  return Finish(Outcome::kArchived, "payload to fetch from its url");
}

Status Router::RouteAthlete(const json::object& body) {
  std::string connection_id;
  if (Status status = ResolveUser(body, &connection_id); !status.ok()) {
    return status;
  }
  if (connection_id.empty()) {
    return MissingUser();
  }
  const json::object* athlete = FindObject(body, "athlete");
  if (athlete == nullptr) {
    return Finish(Outcome::kQuarantined,
                  "athlete event has no `athlete` object");
  }
  MergeItem(connection_id, *athlete,
            {std::string(kAthleteNaturalId), std::string()}, false, 1);
  return Finish(Outcome::kStored, "");
}

Status Router::RouteData(const json::object& body, RecordKind kind) {
  std::string connection_id;
  if (Status status = ResolveUser(body, &connection_id); !status.ok()) {
    return status;
  }
  if (connection_id.empty()) {
    return MissingUser();
  }
  const json::value* data = body.if_contains("data");
  if (data == nullptr || !data->is_array()) {
    return Finish(Outcome::kQuarantined,
                  applied_->event_type + " event has no `data` array");
  }

  // Items without a natural id are skipped; the others are still stored.
  size_t lacking = 0;
  for (const json::value& element : data->get_array()) {
    ItemKey key;
    if (element.is_object()) {
      key = FindItemKey(kind, element.get_object());
    }
    if (!IsValidKeyComponent(key.natural_id)) {
      ++lacking;
      continue;
    }
    MergeItem(connection_id, element.get_object(), key,
              kind == RecordKind::kSession, data->get_array().size());
  }

  if (lacking > 0) {
    return Finish(Outcome::kQuarantined,
                  std::to_string(lacking) + " of " +
                      std::to_string(data->get_array().size()) +
                      " items lack " + std::string(NaturalIdField(kind)));
  }
  return Finish(Outcome::kStored, "");
}

Status Router::RouteUnknown(const json::object& body) {
  std::string_view type = applied_->event_type;
  if (type.starts_with(kLabReportPrefix)) {
    return Finish(Outcome::kArchived, "lab reports carry no user; archived");
  }
  const json::value* data = body.if_contains("data");
  if (data != nullptr && data->is_array()) {
    if (!IsValidKeyComponent(type)) {
      return Finish(Outcome::kQuarantined,
                    "event type cannot be part of a record key");
    }
    return RouteData(body, RecordKind::kOther);
  }

  std::string connection_id;
  if (Status status = ResolveUser(body, &connection_id); !status.ok()) {
    return status;
  }
  return Finish(Outcome::kArchived, "unknown event type " + std::string(type));
}

Status Router::ResolveUser(const json::object& body,
                           std::string* connection_id) {
  connection_id->clear();
  const json::object* user = FindObject(body, "user");
  if (user == nullptr || !IsValidKeyComponent(FindString(*user, "user_id"))) {
    return Status::Ok();
  }
  applied_->user_id = std::string(FindString(*user, "user_id"));
  Status status = ResolveOrCreate(*user, connection_id);
  if (status.ok()) {
    applied_->connection_id = *connection_id;
  }
  return status;
}

Status Router::ResolveOrCreate(const json::object& user,
                               std::string* connection_id) {
  std::string user_id(FindString(user, "user_id"));
  Status status = store_->Get(Family::kUserIds, user_id, connection_id);
  if (status.ok() || !status.IsNotFound()) {
    return status;
  }

  // Data can race ahead of `auth`: the first user id seen names the
  // connection, and its fields are defaults that any lifecycle event
  // overrides.
  *connection_id = user_id;
  batch_->Put(store_->handle(Family::kUserIds), user_id, user_id);
  ConnectionUpdate update =
      NewUpdate("first seen in " + applied_->event_type, "");
  update.defaults_only = true;
  update.fields[std::string(kFieldState)] = std::string(kStateActive);
  SetUserFields(user, &update);
  update.user_ids.push_back(user_id);
  MergeConnection(user_id, update);
  return Status::Ok();
}

ConnectionUpdate Router::NewUpdate(std::string_view event, std::string detail) {
  ConnectionUpdate update;
  update.ordering_ms = delivery_.ordering_ms;
  update.sequence = store_->NextSequence();
  update.received_ms = delivery_.received_ms;
  update.events.push_back({delivery_.ordering_ms, update.sequence,
                           applied_->sequence, std::string(event),
                           std::move(detail)});
  return update;
}

void Router::MergeConnection(std::string_view connection_id,
                             const ConnectionUpdate& update) {
  batch_->Merge(store_->handle(Family::kConnections), connection_id,
                EncodeConnectionUpdate(update));
}

void Router::QueueBackfill(std::string_view connection_id,
                           std::string_view user_id) {
  json::object job;
  job["kind"] = "backfill";
  job["state"] = "queued";
  job["connection_id"] = connection_id;
  job["user_id"] = user_id;
  job["days"] = options_.backfill_days;
  job["created_ms"] = delivery_.received_ms;
  job["reason"] = "auth";
  job["delivery"] = applied_->sequence;
  batch_->Put(store_->handle(Family::kJobs),
              EncodeSequenceKey(store_->NextSequence()), json::serialize(job));
  applied_->backfill_queued = true;
}

void Router::MergeItem(std::string_view connection_id, const json::object& item,
                       const ItemKey& key, bool indexed, size_t items_in_body) {
  Envelope envelope;
  envelope.ordering_ms = delivery_.ordering_ms;
  envelope.sequence = store_->NextSequence();
  envelope.source = delivery_.source;
  envelope.delivery = applied_->sequence;
  envelope.date = key.date;
  // The body's length divided among its items estimates the length of the
  // item's text, so the text usually fits in one allocation.
  envelope.item_json = JsonText(item, delivery_.body.size() / items_in_body);
  envelope.enrichment =
      FindEnrichment(item, envelope.ordering_ms, envelope.sequence);

  std::string_view type = applied_->event_type;
  batch_->Merge(store_->handle(Family::kRecords),
                RecordKey(connection_id, type, key.natural_id),
                EncodeEnvelope(envelope));
  if (indexed && !key.date.empty()) {
    batch_->Put(store_->handle(Family::kSessionsByDate),
                SessionIndexKey(connection_id, type, key.date, key.natural_id),
                "");
  }
  ++applied_->records;
}

Status Router::Finish(Outcome outcome, std::string note) {
  applied_->outcome = outcome;
  applied_->note = std::move(note);
  return Status::Ok();
}

Status Router::MissingUser() {
  return Finish(Outcome::kQuarantined,
                applied_->event_type + " event has no valid user.user_id");
}

// Returns true if every number in `value` is finite. ParseJson reads a
// literal such as 1e400 as infinity, which has no JSON text, so such a body
// must not become a record.
bool AllNumbersFinite(const json::value& value) {
  switch (value.kind()) {
    case json::kind::double_:
      return std::isfinite(value.get_double());
    case json::kind::array:
      for (const json::value& element : value.get_array()) {
        if (!AllNumbersFinite(element)) return false;
      }
      return true;
    case json::kind::object:
      for (const auto& member : value.get_object()) {
        if (!AllNumbersFinite(member.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

// Parses the body into memory from `resource`, which must outlive the
// result; on failure returns the quarantine note.
std::optional<json::object> ParseBody(std::string_view body, size_t max_depth,
                                      json::storage_ptr resource,
                                      std::string* note) {
  boost::system::error_code ec;
  json::value value = ParseJson(body, ec, std::move(resource), max_depth);
  if (ec == json::error::too_deep) {
    *note = "body nests deeper than " + std::to_string(max_depth) + " levels";
    return std::nullopt;
  }
  if (ec) {
    *note = "body is not valid JSON: " + ec.message();
    return std::nullopt;
  }
  if (!value.is_object()) {
    *note = "body is not a JSON object";
    return std::nullopt;
  }
  if (!AllNumbersFinite(value)) {
    *note = "body contains a number outside the range of a double";
    return std::nullopt;
  }
  return std::move(value.get_object());
}

// Builds the archive entry of a routed delivery, taking over its body.
DeliveryRecord ArchiveRecord(Delivery&& delivery,
                             const AppliedDelivery& applied) {
  DeliveryRecord record;
  record.sequence = applied.sequence;
  record.received_ms = delivery.received_ms;
  record.source = delivery.source;
  record.trace_id = applied.trace_id;
  record.terra_reference = delivery.terra_reference;
  record.ordering_header_ms = delivery.ordering_header_ms;
  record.signed_at_s = delivery.signed_at_s;
  record.ordering_ms = delivery.ordering_ms;
  record.event_type = applied.event_type;
  record.user_id = applied.user_id;
  record.outcome = applied.outcome;
  record.note = applied.note;
  record.records = applied.records;
  record.body = std::move(delivery.body);
  return record;
}

}  // namespace

DeliveryApplier::DeliveryApplier(Store* store, ApplierOptions options)
    : store_(store), options_(options) {}

Status DeliveryApplier::Apply(Delivery delivery,
                              AppliedDelivery* applied) const {
  *applied = AppliedDelivery();
  applied->trace_id = delivery.trace_id.empty()
                          ? "sha256:" + Sha256Hex(delivery.body)
                          : delivery.trace_id;
  applied->request.delivery_sequence = store_->OpenDeliverySequence();
  applied->sequence = applied->request.delivery_sequence.sequence();

  // Route the body; anything unusable is archived as quarantined. The
  // parsed tree lives only for this call, so its nodes come from one arena
  // that is released at once instead of node by node.
  json::monotonic_resource arena;
  std::string note;
  std::optional<json::object> body =
      ParseBody(delivery.body, options_.json_max_depth, &arena, &note);
  if (!body) {
    applied->outcome = Outcome::kQuarantined;
    applied->note = std::move(note);
  } else if (FindString(*body, "type").empty()) {
    applied->outcome = Outcome::kQuarantined;
    applied->note = "body has no string `type`";
  } else {
    applied->event_type = std::string(FindString(*body, "type"));
    Router router(store_, options_, delivery, applied);
    if (Status status = router.Route(*body); !status.ok()) {
      return status;
    }
  }

  // The archive entry and the dedup entry go into the same batch as the
  // writes, so a delivery is stored whole or not at all.
  applied->request.dedup_key = applied->trace_id;
  applied->request.dedup_value =
      EncodeDedupEntry(applied->sequence, delivery.received_ms);
  applied->request.batch.Put(
      store_->handle(Family::kDeliveries), EncodeSequenceKey(applied->sequence),
      EncodeDeliveryRecord(ArchiveRecord(std::move(delivery), *applied)));
  return Status::Ok();
}

}  // namespace terra::store
