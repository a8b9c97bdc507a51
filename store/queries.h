// Read-side queries over a store, shared by terra-syncctl and the tests:
// resolving user ids to connections and walking records with filters. Results
// stream through callbacks; nothing buffers a whole result.

#ifndef TERRA_STORE_QUERIES_H_
#define TERRA_STORE_QUERIES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "store/connection.h"
#include "store/envelope.h"
#include "store/status.h"

namespace terra::store {

class Store;

// Looks up the connection id of a Terra user id (old or new after a reauth).
// Returns NotFound if the user id is unknown.
[[nodiscard]] Status ResolveConnection(const Store& store,
                                       std::string_view user_id,
                                       std::string* connection_id);

// Returns true if `reference_id` is empty or is the connection's reference_id.
bool HasReferenceId(const Connection& connection,
                    std::string_view reference_id);

// Calls `visit` for each connection in key order; stops early when it
// returns false. A value that does not decode is reported through
// `on_malformed` with its connection id and skipped. Without `on_malformed`,
// the walk stops at that value and returns Corruption.
[[nodiscard]] Status ForEachConnection(
    const Store& store,
    const std::function<bool(std::string_view connection_id,
                             const Connection& connection)>& visit,
    const std::function<void(std::string_view connection_id)>& on_malformed =
        {});

// Filter for ForEachRecord. Empty fields match everything.
struct RecordFilter {
  std::string connection_id;  // resolved from a user id by the caller
  std::string reference_id;   // connections whose reference_id is this
  std::string type;           // data type, for example "sleep"
  std::string from_date;      // YYYY-MM-DD, inclusive
  std::string to_date;        // YYYY-MM-DD, inclusive
  std::string natural_id;     // exact natural id
};

// One record as readers see it.
struct RecordView {
  std::string_view connection_id;
  std::string_view type;
  std::string_view natural_id;
  const Envelope* envelope;  // item_json already materialized
};

// Calls `visit` for each record that matches `filter`, in key order; stops
// early when it returns false. A reference id selects every connection that
// has it, in connection id order (one end user can connect several
// providers). Sessions are selected by their current date: an
// index entry whose date no longer matches its record is skipped. A malformed
// record is reported through `on_malformed` (when given) with its key and
// the reason, and skipped.
[[nodiscard]] Status ForEachRecord(
    const Store& store, const RecordFilter& filter,
    const std::function<bool(const RecordView& record)>& visit,
    const std::function<void(std::string_view key, std::string_view reason)>&
        on_malformed = {});

// Calls `visit` for each job of the `jobs` family in key order, with the job's
// id (its sequence) and its JSON text; stops early when it returns false. A
// key that is not a sequence is reported as Corruption.
[[nodiscard]] Status ForEachJob(
    const Store& store,
    const std::function<bool(uint64_t job_id, std::string_view job_json)>&
        visit);

}  // namespace terra::store

#endif  // TERRA_STORE_QUERIES_H_
