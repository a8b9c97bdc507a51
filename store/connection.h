// Connections: one per Terra user connection, keyed by connection id (the first
// Terra user id seen for it). Every change is written as a merge operand
// (ConnectionUpdate) and combined by the connection merge operator, so
// concurrent deliveries never need a read-modify-write. Each field keeps the
// value of the latest update that set it, by (ordering_ms, sequence), so a
// `deauth` delivered before an older `auth` still leaves the connection
// revoked.

#ifndef TERRA_STORE_CONNECTION_H_
#define TERRA_STORE_CONNECTION_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace terra::store {

// Field names used in ConnectionUpdate::fields and Connection::fields.
inline constexpr std::string_view kFieldState = "state";
inline constexpr std::string_view kFieldProvider = "provider";
inline constexpr std::string_view kFieldScopes = "scopes";
inline constexpr std::string_view kFieldReferenceId = "reference_id";

// Values of the `state` field.
inline constexpr std::string_view kStateActive = "active";
inline constexpr std::string_view kStateRevoked = "revoked";
inline constexpr std::string_view kStateError = "error";
// A connection created by data that arrived before the `user_reauth` that
// tied its user id to an older connection; readers reach its records
// through the older connection.
inline constexpr std::string_view kStateMerged = "merged";

// Maximum number of history entries a connection keeps; the oldest by
// (ordering_ms, sequence) are dropped first.
inline constexpr size_t kMaxConnectionHistory = 64;

// One entry of a connection's history: a lifecycle event that touched it.
struct ConnectionEvent {
  int64_t ordering_ms = 0;
  uint64_t sequence = 0;
  uint64_t delivery = 0;  // `deliveries` sequence, 0 when not from a delivery
  std::string event;      // event type, for example "auth" or "deauth"
  std::string detail;     // short human-readable note, may be empty

  friend bool operator==(const ConnectionEvent&,
                         const ConnectionEvent&) = default;
};

// A field value and the update that set it.
struct ConnectionField {
  std::string value;
  int64_t ordering_ms = 0;
  uint64_t sequence = 0;

  friend bool operator==(const ConnectionField&,
                         const ConnectionField&) = default;
};

// One merge operand for the `connections` family.
struct ConnectionUpdate {
  int64_t ordering_ms = 0;
  uint64_t sequence = 0;
  int64_t received_ms = 0;

  // Fields to set. When `defaults_only` is true they are written with the
  // lowest possible priority, so any real lifecycle event overrides them:
  // that is how a connection created from data that raced ahead of its
  // `auth` event gets a state without hiding a later `deauth`.
  std::map<std::string, std::string, std::less<>> fields;
  bool defaults_only = false;

  std::vector<std::string> user_ids;  // Terra user ids that map here
  std::vector<ConnectionEvent> events;
};

// A connection as merged from all of its updates.
struct Connection {
  std::map<std::string, ConnectionField, std::less<>> fields;
  std::vector<std::string> user_ids;      // sorted, unique
  std::vector<ConnectionEvent> history;   // oldest first
  int64_t first_seen_ms = 0;              // smallest received_ms of updates
  int64_t last_update_ms = 0;             // largest received_ms of updates

  // Returns the value of `name`, or an empty string if it was never set.
  std::string_view Field(std::string_view name) const;

  friend bool operator==(const Connection&, const Connection&) = default;
};

// Serializes an update as a merge operand (JSON, see connection.cc).
std::string EncodeConnectionUpdate(const ConnectionUpdate& update);

// Combines stored connection bytes (`existing`, may be null) and operands
// into one stored value. Malformed inputs are skipped and counted in
// `*malformed` (when given). The result does not depend on the order or
// grouping of the inputs.
std::string MergeConnection(const std::string_view* existing,
                            const std::vector<std::string_view>& operands,
                            size_t* malformed = nullptr);

// Parses a stored connection value (or a single operand). Returns false if
// the bytes are malformed.
[[nodiscard]] bool DecodeConnection(std::string_view bytes,
                                    Connection* connection);

// Renders a connection as a JSON object for `terra-syncctl dump`:
// {"connection_id", "state", "provider", "scopes", "reference_id",
//  "user_ids", "first_seen_ms", "last_update_ms", "history"}.
std::string ConnectionToJson(std::string_view connection_id,
                             const Connection& connection);

}  // namespace terra::store

#endif  // TERRA_STORE_CONNECTION_H_
