// Stored format of the `connections` family. A stored value and a single
// merge operand share one JSON format, so the merge of any set of inputs is
// again a valid input:
//
//   {"version": 1,
//    "fields": {"<name>": {"value": "...", "ordering_ms": int64,
//                          "sequence": uint64}, ...},
//    "user_ids": ["...", ...],            sorted, unique
//    "history": [{"ordering_ms": int64, "sequence": uint64,
//                 "delivery": uint64, "event": "...", "detail": "..."}, ...],
//    "first_seen_ms": int64, "last_update_ms": int64}
//
// Merge rule, chosen so that the result does not depend on the order or
// grouping of the inputs:
// - each field keeps the value with the greatest (ordering_ms, sequence),
//   and on a tie the greater value. Fields of a `defaults_only` update are
//   stored at (INT64_MIN, 0), so any real update beats them;
// - user_ids is the set union;
// - history is the union of events keyed by (ordering_ms, sequence), oldest
//   first, keeping the newest kMaxConnectionHistory;
// - first_seen_ms is the minimum and last_update_ms the maximum.

#include "store/connection.h"

#include <algorithm>
#include <boost/json.hpp>
#include <limits>
#include <tuple>

namespace terra::store {
namespace {

namespace json = boost::json;

constexpr int64_t kConnectionFormatVersion = 1;
constexpr int64_t kDefaultsOrderingMs = std::numeric_limits<int64_t>::min();

// Total order of history events: by (ordering_ms, sequence), then content,
// so that two events with the same key resolve the same way in any order.
bool EventLess(const ConnectionEvent& a, const ConnectionEvent& b) {
  return std::tie(a.ordering_ms, a.sequence, a.delivery, a.event, a.detail) <
         std::tie(b.ordering_ms, b.sequence, b.delivery, b.event, b.detail);
}

bool SameEventKey(const ConnectionEvent& a, const ConnectionEvent& b) {
  return a.ordering_ms == b.ordering_ms && a.sequence == b.sequence;
}

bool FieldLess(const ConnectionField& a, const ConnectionField& b) {
  return std::tie(a.ordering_ms, a.sequence, a.value) <
         std::tie(b.ordering_ms, b.sequence, b.value);
}

// Sorts `history` oldest first, keeps the greatest event per key and drops
// the oldest beyond kMaxConnectionHistory.
void NormalizeHistory(std::vector<ConnectionEvent>* history) {
  std::sort(history->begin(), history->end(), EventLess);

  std::vector<ConnectionEvent> unique;
  unique.reserve(history->size());
  for (ConnectionEvent& event : *history) {
    if (!unique.empty() && SameEventKey(unique.back(), event)) {
      unique.back() = std::move(event);
    } else {
      unique.push_back(std::move(event));
    }
  }

  if (unique.size() > kMaxConnectionHistory) {
    unique.erase(unique.begin(), unique.end() - kMaxConnectionHistory);
  }
  *history = std::move(unique);
}

void NormalizeUserIds(std::vector<std::string>* user_ids) {
  std::sort(user_ids->begin(), user_ids->end());
  user_ids->erase(std::unique(user_ids->begin(), user_ids->end()),
                  user_ids->end());
}

// Folds `input` into `merged`, which already contains at least one input.
void Combine(Connection* merged, Connection input) {
  for (auto& [name, field] : input.fields) {
    auto it = merged->fields.find(name);
    if (it == merged->fields.end()) {
      merged->fields.emplace(name, std::move(field));
    } else if (FieldLess(it->second, field)) {
      it->second = std::move(field);
    }
  }

  merged->user_ids.insert(merged->user_ids.end(), input.user_ids.begin(),
                          input.user_ids.end());
  NormalizeUserIds(&merged->user_ids);

  std::move(input.history.begin(), input.history.end(),
            std::back_inserter(merged->history));
  NormalizeHistory(&merged->history);

  merged->first_seen_ms = std::min(merged->first_seen_ms, input.first_seen_ms);
  merged->last_update_ms =
      std::max(merged->last_update_ms, input.last_update_ms);
}

json::object EventToJson(const ConnectionEvent& event) {
  return {{"ordering_ms", event.ordering_ms},
          {"sequence", event.sequence},
          {"delivery", event.delivery},
          {"event", event.event},
          {"detail", event.detail}};
}

json::array UserIdsToJson(const std::vector<std::string>& user_ids) {
  json::array array;
  for (const std::string& user_id : user_ids) array.emplace_back(user_id);
  return array;
}

json::array HistoryToJson(const std::vector<ConnectionEvent>& history) {
  json::array array;
  for (const ConnectionEvent& event : history) {
    array.emplace_back(EventToJson(event));
  }
  return array;
}

std::string EncodeStored(const Connection& connection) {
  json::object fields;
  for (const auto& [name, field] : connection.fields) {
    fields[name] = {{"value", field.value},
                    {"ordering_ms", field.ordering_ms},
                    {"sequence", field.sequence}};
  }

  json::object stored{{"version", kConnectionFormatVersion},
                      {"fields", std::move(fields)},
                      {"user_ids", UserIdsToJson(connection.user_ids)},
                      {"history", HistoryToJson(connection.history)},
                      {"first_seen_ms", connection.first_seen_ms},
                      {"last_update_ms", connection.last_update_ms}};
  return json::serialize(stored);
}

// Typed accessors that fail instead of throwing on a missing key or a value
// of the wrong type.
template <typename T>
bool GetNumber(const json::object& object, std::string_view key, T* out) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return false;
  boost::system::error_code error;
  *out = value->to_number<T>(error);
  return !error;
}

bool GetString(const json::object& object, std::string_view key,
               std::string* out) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return false;
  out->assign(value->get_string());
  return true;
}

bool DecodeField(const json::value& value, ConnectionField* field) {
  const json::object* object = value.if_object();
  return object != nullptr && GetString(*object, "value", &field->value) &&
         GetNumber(*object, "ordering_ms", &field->ordering_ms) &&
         GetNumber(*object, "sequence", &field->sequence);
}

bool DecodeEvent(const json::value& value, ConnectionEvent* event) {
  const json::object* object = value.if_object();
  return object != nullptr &&
         GetNumber(*object, "ordering_ms", &event->ordering_ms) &&
         GetNumber(*object, "sequence", &event->sequence) &&
         GetNumber(*object, "delivery", &event->delivery) &&
         GetString(*object, "event", &event->event) &&
         GetString(*object, "detail", &event->detail);
}

bool DecodeFields(const json::object& stored, Connection* connection) {
  const json::value* fields = stored.if_contains("fields");
  if (fields == nullptr || !fields->is_object()) return false;
  for (const auto& entry : fields->get_object()) {
    ConnectionField field;
    if (!DecodeField(entry.value(), &field)) return false;
    connection->fields.emplace(std::string(entry.key()), std::move(field));
  }
  return true;
}

bool DecodeUserIds(const json::object& stored, Connection* connection) {
  const json::value* user_ids = stored.if_contains("user_ids");
  if (user_ids == nullptr || !user_ids->is_array()) return false;
  for (const json::value& user_id : user_ids->get_array()) {
    if (!user_id.is_string()) return false;
    connection->user_ids.emplace_back(user_id.get_string());
  }
  NormalizeUserIds(&connection->user_ids);
  return true;
}

bool DecodeHistory(const json::object& stored, Connection* connection) {
  const json::value* history = stored.if_contains("history");
  if (history == nullptr || !history->is_array()) return false;
  for (const json::value& value : history->get_array()) {
    ConnectionEvent event;
    if (!DecodeEvent(value, &event)) return false;
    connection->history.push_back(std::move(event));
  }
  NormalizeHistory(&connection->history);
  return true;
}

}  // namespace

std::string_view Connection::Field(std::string_view name) const {
  auto it = fields.find(name);
  return it == fields.end() ? std::string_view() : it->second.value;
}

std::string EncodeConnectionUpdate(const ConnectionUpdate& update) {
  Connection connection;
  for (const auto& [name, value] : update.fields) {
    ConnectionField field{value, update.ordering_ms, update.sequence};
    if (update.defaults_only) {
      field.ordering_ms = kDefaultsOrderingMs;
      field.sequence = 0;
    }
    connection.fields.emplace(name, std::move(field));
  }

  connection.user_ids = update.user_ids;
  NormalizeUserIds(&connection.user_ids);
  connection.history = update.events;
  NormalizeHistory(&connection.history);
  connection.first_seen_ms = update.received_ms;
  connection.last_update_ms = update.received_ms;
  return EncodeStored(connection);
}

std::string MergeConnection(const std::string_view* existing,
                            const std::vector<std::string_view>& operands,
                            size_t* malformed) {
  std::vector<std::string_view> inputs;
  if (existing != nullptr) inputs.push_back(*existing);
  inputs.insert(inputs.end(), operands.begin(), operands.end());

  Connection merged;
  bool any = false;
  size_t skipped = 0;
  for (std::string_view bytes : inputs) {
    Connection input;
    if (!DecodeConnection(bytes, &input)) {
      ++skipped;
    } else if (!any) {
      merged = std::move(input);
      any = true;
    } else {
      Combine(&merged, std::move(input));
    }
  }

  if (malformed != nullptr) *malformed = skipped;
  return any ? EncodeStored(merged) : std::string();
}

bool DecodeConnection(std::string_view bytes, Connection* connection) {
  boost::system::error_code error;
  json::value parsed = json::parse(bytes, error);
  if (error || !parsed.is_object()) return false;

  const json::object& stored = parsed.get_object();
  int64_t version = 0;
  if (!GetNumber(stored, "version", &version) ||
      version != kConnectionFormatVersion) {
    return false;
  }

  *connection = Connection();
  return DecodeFields(stored, connection) &&
         DecodeUserIds(stored, connection) &&
         DecodeHistory(stored, connection) &&
         GetNumber(stored, "first_seen_ms", &connection->first_seen_ms) &&
         GetNumber(stored, "last_update_ms", &connection->last_update_ms);
}

std::string ConnectionToJson(std::string_view connection_id,
                             const Connection& connection) {
  json::object out{
      {"connection_id", connection_id},
      {"state", connection.Field(kFieldState)},
      {"provider", connection.Field(kFieldProvider)},
      {"scopes", connection.Field(kFieldScopes)},
      {"reference_id", connection.Field(kFieldReferenceId)},
      {"user_ids", UserIdsToJson(connection.user_ids)},
      {"first_seen_ms", connection.first_seen_ms},
      {"last_update_ms", connection.last_update_ms},
      {"history", HistoryToJson(connection.history)},
  };
  return json::serialize(out);
}

}  // namespace terra::store
