#include "tools/dump_selectors.h"

#include <boost/json.hpp>

#include "store/connection.h"
#include "store/store.h"
#include "store/store_stats.h"
#include "tools/capture_format.h"
#include "tools/skipped_entries.h"
#include "tools/stop_signals.h"

namespace terra::tools {
namespace {

namespace json = boost::json;

constexpr std::string_view kPrefix = "terra-syncctl dump: ";

json::object CountsToJson(const std::map<std::string, uint64_t>& counts) {
  json::object object;
  for (const auto& [name, count] : counts) {
    object[name] = count;
  }
  return object;
}

json::object StatsToJson(const store::StoreStats& stats) {
  return json::object{
      {"format_version", stats.format_version},
      {"last_sequence", stats.last_sequence},
      {"size_on_disk_bytes", stats.size_on_disk_bytes},
      {"records", CountsToJson(stats.records_per_type)},
      {"deliveries", CountsToJson(stats.deliveries_per_outcome)},
      {"connections", CountsToJson(stats.connections_per_state)},
      {"jobs", CountsToJson(stats.jobs_per_state)},
      {"malformed", stats.malformed},
  };
}

// Flattens the stats object into name/value rows: nested counts become
// "records.daily".
void WriteStatsRows(const json::object& stats, RowWriter* writer) {
  for (const auto& [name, value] : stats) {
    if (!value.is_object()) {
      writer->Write({{"name", name}, {"value", value}});
      continue;
    }
    for (const auto& [key, count] : value.get_object()) {
      writer->Write({{"name", std::string(name) + "." + std::string(key)},
                     {"value", count}});
    }
  }
}

}  // namespace

bool ParseSelector(std::string_view name, Selector* selector) {
  static constexpr std::pair<std::string_view, Selector> kNames[] = {
      {"connections", Selector::kConnections},
      {"records", Selector::kRecords},
      {"deliveries", Selector::kDeliveries},
      {"jobs", Selector::kJobs},
      {"stats", Selector::kStats},
  };
  for (const auto& [known, value] : kNames) {
    if (known == name) {
      *selector = value;
      return true;
    }
  }
  return false;
}

std::vector<std::string> SelectorColumns(Selector selector) {
  switch (selector) {
    case Selector::kConnections:
      return {"connection_id", "state",    "provider",
              "reference_id",  "user_ids", "last_update_ms"};
    case Selector::kRecords:
      return {"connection_id", "type",     "natural_id", "date",
              "ordering_ms",   "sequence", "source",     "delivery"};
    case Selector::kDeliveries:
      return {"sequence",        "received_ms", "trace_id",
              "terra_reference", "event_type",  "user_id",
              "outcome",         "records",     "note"};
    case Selector::kJobs:
      return {"job_id",  "kind", "state",     "connection_id",
              "user_id", "days", "created_ms"};
    case Selector::kStats:
      return {"name", "value"};
  }
  return {};
}

json::object RecordToJson(const store::RecordView& record) {
  const store::Envelope& envelope = *record.envelope;
  json::object line;
  line["connection_id"] = record.connection_id;
  line["type"] = record.type;
  line["natural_id"] = record.natural_id;
  line["date"] = envelope.date;
  line["ordering_ms"] = envelope.ordering_ms;
  line["sequence"] = envelope.sequence;
  line["source"] = store::SourceName(envelope.source);
  line["delivery"] = envelope.delivery;
  return line;
}

bool WriteRecord(const store::RecordView& record, RowWriter* writer,
                 JsonLine* line) {
  if (!writer->writes_json()) {
    return writer->Write(RecordToJson(record));
  }

  // The same members as RecordToJson, plus the item: the materialized item
  // is serialized JSON already (the store wrote it as compact text), so it
  // is copied into the line, not parsed again.
  const store::Envelope& envelope = *record.envelope;
  line->Clear();
  line->AddString("connection_id", record.connection_id);
  line->AddString("type", record.type);
  line->AddString("natural_id", record.natural_id);
  line->AddString("date", envelope.date);
  line->AddInteger("ordering_ms", envelope.ordering_ms);
  line->AddUnsigned("sequence", envelope.sequence);
  line->AddString("source", store::SourceName(envelope.source));
  line->AddUnsigned("delivery", envelope.delivery);
  line->AddRaw("item", envelope.item_json);
  return writer->WriteJsonText(line->Finish());
}

store::Status PrintConnections(const store::Store& store,
                               const store::RecordFilter& filter,
                               RowWriter* writer, SkippedEntries* skipped,
                               std::ostream& err) {
  return store::ForEachConnection(
      store,
      [&](std::string_view id, const store::Connection& connection) {
        if ((!filter.connection_id.empty() && id != filter.connection_id) ||
            !store::HasReferenceId(connection, filter.reference_id)) {
          return true;
        }
        json::value row = json::parse(store::ConnectionToJson(id, connection));
        return writer->Write(row.get_object()) && !StopRequested();
      },
      [&](std::string_view id) {
        // A malformed value has no reference id to filter on, so only the
        // connection id can leave it out.
        if (!filter.connection_id.empty() && id != filter.connection_id) {
          return;
        }
        err << kPrefix << "skipped malformed connection " << id << "\n";
        skipped->Add("connection", "value is not a connection");
      });
}

void ReportMalformedDelivery(uint64_t sequence, SkippedEntries* skipped,
                             std::ostream& err) {
  std::string_view reason = sequence == 0 ? "key is not a sequence number"
                                          : "value is not an archived delivery";
  err << kPrefix << "skipped malformed delivery " << sequence << ": " << reason
      << "\n";
  skipped->Add("delivery", reason);
}

void ReportMalformedRecord(std::string_view key, std::string_view reason,
                           SkippedEntries* skipped, std::ostream& err) {
  err << kPrefix << "skipped a malformed record (key of " << key.size()
      << " bytes): " << reason << "\n";
  skipped->Add("record", reason);
}

store::Status PrintRecords(const store::Store& store,
                           const store::RecordFilter& filter, RowWriter* writer,
                           SkippedEntries* skipped, std::ostream& err) {
  JsonLine line;
  return store::ForEachRecord(
      store, filter,
      [&](const store::RecordView& record) {
        return WriteRecord(record, writer, &line) && !StopRequested();
      },
      [&](std::string_view key, std::string_view reason) {
        ReportMalformedRecord(key, reason, skipped, err);
      });
}

store::Status PrintDeliveries(const store::Store& store,
                              const store::DeliveryFilter& filter,
                              RowWriter* writer, SkippedEntries* skipped,
                              std::ostream& err) {
  return store::ForEachDelivery(
      store, filter,
      [&](const store::DeliveryRecord& delivery) {
        return writer->Write(DeliveryToCapture(delivery)) && !StopRequested();
      },
      [&](uint64_t sequence) {
        ReportMalformedDelivery(sequence, skipped, err);
      });
}

store::Status PrintJobs(const store::Store& store, RowWriter* writer,
                        SkippedEntries* skipped, std::ostream& err) {
  return store::ForEachJob(
      store, [&](uint64_t job_id, std::string_view job_json) {
        boost::system::error_code ec;
        json::value job = json::parse(job_json, ec);
        if (ec || !job.is_object()) {
          err << kPrefix << "skipped malformed job " << job_id << "\n";
          skipped->Add("job", "value is not a JSON object");
          return true;
        }
        json::object row{{"job_id", job_id}};
        for (const auto& [key, value] : job.get_object()) {
          row[key] = value;
        }
        return writer->Write(row) && !StopRequested();
      });
}

store::Status PrintStats(const store::Store& store, Format format,
                         std::ostream& out) {
  store::StoreStats stats;
  if (store::Status status = store::ComputeStoreStats(store, &stats);
      !status.ok()) {
    return status;
  }

  json::object object = StatsToJson(stats);
  if (format == Format::kNdjson || format == Format::kJsonArray) {
    out << json::serialize(object) << "\n";
    return store::Status::Ok();
  }
  RowWriter writer(format, SelectorColumns(Selector::kStats), out);
  WriteStatsRows(object, &writer);
  writer.Finish();
  return store::Status::Ok();
}

}  // namespace terra::tools
