// What `terra-syncctl dump` can print: one function per selector, each
// streaming its rows from the store into a RowWriter, and the CSV and table
// columns of each.

#ifndef TERRA_TOOLS_DUMP_SELECTORS_H_
#define TERRA_TOOLS_DUMP_SELECTORS_H_

#include <boost/json/object.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "store/delivery_queries.h"
#include "store/queries.h"
#include "store/status.h"
#include "tools/json_line.h"
#include "tools/row_writer.h"

namespace terra::store {
class Store;
}

namespace terra::tools {

class SkippedEntries;

// Selectors: "connections", "records", "deliveries", "jobs", "stats".
enum class Selector { kConnections, kRecords, kDeliveries, kJobs, kStats };

// Parses a selector name. Returns false for anything else.
[[nodiscard]] bool ParseSelector(std::string_view name, Selector* selector);

// CSV and table columns of the rows of `selector`.
std::vector<std::string> SelectorColumns(Selector selector);

// Renders a record's envelope fields: connection_id, type, natural_id, date,
// ordering_ms, sequence, source and delivery (the item is not included).
boost::json::object RecordToJson(const store::RecordView& record);

// Writes a record as its envelope fields plus `item`, the item JSON copied
// as stored; CSV and the table print the envelope fields. `line` is scratch
// space that the caller keeps across records. Returns false once the
// writer's output has failed.
bool WriteRecord(const store::RecordView& record, RowWriter* writer,
                 JsonLine* line);

// Reports a delivery that ForEachDelivery found malformed on `err` and
// counts it in `skipped`. Sequence 0 stands for a key that is not a sequence.
void ReportMalformedDelivery(uint64_t sequence, SkippedEntries* skipped,
                             std::ostream& err);

// Reports a record that ForEachRecord found malformed on `err` and counts it
// in `skipped`.
void ReportMalformedRecord(std::string_view key, std::string_view reason,
                           SkippedEntries* skipped, std::ostream& err);

// Each Print function writes one row per item and stops early, returning OK,
// when the writer fails or StopRequested() (tools/stop_signals.h) is true
// after a row. Store errors are returned; malformed entries are reported on
// `err`, counted in `skipped` and skipped.
// PrintConnections prints the connections that `filter` selects by
// connection id and reference id; its other fields do not apply.
[[nodiscard]] store::Status PrintConnections(const store::Store& store,
                                             const store::RecordFilter& filter,
                                             RowWriter* writer,
                                             SkippedEntries* skipped,
                                             std::ostream& err);
[[nodiscard]] store::Status PrintRecords(const store::Store& store,
                                         const store::RecordFilter& filter,
                                         RowWriter* writer,
                                         SkippedEntries* skipped,
                                         std::ostream& err);
[[nodiscard]] store::Status PrintDeliveries(const store::Store& store,
                                            const store::DeliveryFilter& filter,
                                            RowWriter* writer,
                                            SkippedEntries* skipped,
                                            std::ostream& err);
[[nodiscard]] store::Status PrintJobs(const store::Store& store,
                                      RowWriter* writer,
                                      SkippedEntries* skipped,
                                      std::ostream& err);

// Prints the counts of ComputeStoreStats. As NDJSON or JSON it is one object;
// as CSV or a table it is one `name,value` row per count, for example
// `records.daily,3`.
[[nodiscard]] store::Status PrintStats(const store::Store& store, Format format,
                                       std::ostream& out);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_DUMP_SELECTORS_H_
