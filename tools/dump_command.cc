#include "tools/dump_command.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>

#include "store/keys.h"
#include "store/queries.h"
#include "store/store.h"
#include "tools/delivery_filter_options.h"
#include "tools/dump_selectors.h"
#include "tools/exit_codes.h"
#include "tools/subcommand_parser.h"
#include "tools/follow.h"
#include "tools/row_writer.h"
#include "tools/skipped_entries.h"
#include "tools/stop_signals.h"
#include "tools/store_opener.h"

namespace terra::tools {
namespace {

namespace po = boost::program_options;

constexpr std::string_view kPrefix = "terra-syncctl dump: ";

struct DumpArgs {
  std::string store_path;
  std::string selector_name;
  std::string format_name;
  std::string user_id;
  store::RecordFilter records;
  DeliveryFilterOptions delivery_options;
  bool follow = false;
  int64_t poll_interval_ms = 500;

  // Filled by ValidateArgs.
  Selector selector = Selector::kConnections;
  Format format = Format::kNdjson;
  store::DeliveryFilter deliveries;
};

po::options_description DumpOptions(DumpArgs* args) {
  po::options_description options(
      "Usage: terra-syncctl dump --store DIR SELECTOR [options]\n"
      "SELECTOR is connections, records, deliveries, jobs or stats.\n"
      "Deliveries print in the capture format that `terra-syncctl replay "
      "--capture` reads.\n"
      "Exit codes: 0 every selected entry printed; 1 invalid arguments, "
      "unknown --user,\n  or the output cannot be written;\n"
      "  2 store error (missing, newer format, unreadable); 3 the dump ran "
      "to the end but skipped\n"
      "  malformed entries, counted on stderr; 130 or 143 SIGINT or SIGTERM "
      "stopped a dump\n"
      "  without --follow before the end.\nOptions");
  options.add_options()              //
      ("help,h", "print this help")  //
      ("store", po::value(&args->store_path)->required(),
       "directory of the store; it may be in use by terra-syncd, or a copy")  //
      ("format", po::value(&args->format_name),
       "ndjson (one object per line), json (one array), csv, or table; "
       "default: table on a terminal, else ndjson")  //
      ("user", po::value(&args->user_id),
       "connections, records: only the connection of this Terra user id "
       "(old or new after a reauth)")  //
      ("reference-id", po::value(&args->records.reference_id),
       "connections, records: only the connections with this reference_id, "
       "the id of the end user in your app (one end user can have several "
       "connections)")  //
      ("type", po::value(&args->records.type),
       "records: only this data type, for example sleep")  //
      ("from", po::value(&args->delivery_options.from),
       "records: first date, YYYY-MM-DD, inclusive; deliveries: first "
       "received time, YYYY-MM-DD (UTC) or YYYY-MM-DDTHH:MM:SSZ, inclusive")  //
      ("to", po::value(&args->delivery_options.to),
       "records: last date, inclusive; deliveries: last received time, "
       "inclusive (a date covers its whole UTC day)")  //
      ("natural-id", po::value(&args->records.natural_id),
       "records: only this natural id (date, summary id or other id)");
  args->delivery_options.AddTo(&options);
  options.add_options()  //
      ("follow", po::bool_switch(&args->follow),
       "records, deliveries: after the dump, keep printing what lands until "
       "interrupted (Ctrl-C)")  //
      ("poll-interval", po::value(&args->poll_interval_ms),
       "with --follow: milliseconds between reads of new data (default "
       "500)");
  return options;
}

// Parses `args`. Returns the exit code to end with after an error or --help,
// or nullopt when the command should run.
std::optional<int> ParseArgs(const std::vector<std::string>& args,
                             DumpArgs* dump, std::ostream& out,
                             std::ostream& err) {
  po::options_description options = DumpOptions(dump);
  po::options_description hidden;
  hidden.add_options()("selector", po::value(&dump->selector_name));
  po::positional_options_description positional;
  positional.add("selector", 1);

  po::variables_map values;
  return ParseSubcommand({"dump", &options, &hidden, &positional}, args,
                         &values, out, err);
}

// Checks the options that only some selectors take. Returns an error message,
// or an empty string.
std::string CheckApplicable(const DumpArgs& dump) {
  bool records = dump.selector == Selector::kRecords;
  bool deliveries = dump.selector == Selector::kDeliveries;
  const DeliveryFilterOptions& filter = dump.delivery_options;
  if (!records &&
      (!dump.records.type.empty() || !dump.records.natural_id.empty())) {
    return "--type and --natural-id apply to records only";
  }
  if (!deliveries &&
      (!filter.trace_id.empty() || !filter.terra_reference.empty() ||
       !filter.event_type.empty() || !filter.outcome.empty())) {
    return "--trace-id, --reference, --event-type and --outcome apply to "
           "deliveries only";
  }
  if (!records && !deliveries && (!filter.from.empty() || !filter.to.empty())) {
    return "--from and --to apply to records and deliveries only";
  }
  if ((!dump.user_id.empty() || !dump.records.reference_id.empty()) &&
      dump.selector != Selector::kConnections && !records) {
    return "--user and --reference-id apply to connections and records only";
  }
  if (dump.follow && !records && !deliveries) {
    return "--follow applies to records and deliveries only";
  }
  if (dump.poll_interval_ms <= 0) {
    return "--poll-interval must be a positive number of milliseconds";
  }
  return {};
}

std::string CheckRecordDates(DumpArgs* dump) {
  dump->records.from_date = dump->delivery_options.from;
  dump->records.to_date = dump->delivery_options.to;
  for (const auto& [name, date] :
       {std::pair{"--from", &dump->records.from_date},
        std::pair{"--to", &dump->records.to_date}}) {
    if (!date->empty() && !store::IsCalendarDate(*date)) {
      return std::string(name) + " \"" + *date +
             "\" is not a date; use YYYY-MM-DD";
    }
  }
  return {};
}

std::optional<int> ValidateArgs(DumpArgs* dump, std::ostream& err) {
  if (!ParseSelector(dump->selector_name, &dump->selector)) {
    err << kPrefix
        << "expected connections, records, deliveries, jobs or stats, got \""
        << dump->selector_name
        << "\"; run terra-syncctl dump --help for usage\n";
    return kExitUsage;
  }
  std::optional<Format> format = dump->format_name.empty()
                                     ? DefaultFormat()
                                     : ParseFormat(dump->format_name);
  if (!format) {
    err << kPrefix << "--format \"" << dump->format_name
        << "\" is not a format; use ndjson, json, csv or table\n";
    return kExitUsage;
  }
  dump->format = *format;

  std::string error = CheckApplicable(*dump);
  if (error.empty() && dump->selector == Selector::kRecords) {
    error = CheckRecordDates(dump);
  }
  if (error.empty() && dump->selector == Selector::kDeliveries &&
      !dump->delivery_options.Resolve(&dump->deliveries, &error)) {
    error = error.empty() ? "invalid delivery filter" : error;
  }
  if (!error.empty()) {
    err << kPrefix << error << "\n";
    return kExitUsage;
  }
  return std::nullopt;
}

// Prints the selected rows once.
store::Status PrintOnce(const DumpArgs& dump, const store::Store& store,
                        RowWriter* writer, SkippedEntries* skipped,
                        std::ostream& out, std::ostream& err) {
  switch (dump.selector) {
    case Selector::kConnections:
      return PrintConnections(store, dump.records, writer, skipped, err);
    case Selector::kRecords:
      return PrintRecords(store, dump.records, writer, skipped, err);
    case Selector::kDeliveries:
      return PrintDeliveries(store, dump.deliveries, writer, skipped, err);
    case Selector::kJobs:
      return PrintJobs(store, writer, skipped, err);
    case Selector::kStats:
      return PrintStats(store, dump.format, out);
  }
  return store::Status::Ok();
}

// Follows the store after the first dump. When `out` is std::cout, the
// follow also ends once standard output's reader has gone.
store::Status Follow(const DumpArgs& dump, store::Store* store,
                     FollowStart start, RowWriter* writer, std::ostream& out,
                     SkippedEntries* skipped, std::ostream& err) {
  auto interval = std::chrono::milliseconds(dump.poll_interval_ms);
  int output_fd = &out == &std::cout ? STDOUT_FILENO : -1;
  if (dump.selector == Selector::kDeliveries) {
    return FollowDeliveries(store, dump.deliveries, std::move(start), interval,
                            writer, output_fd, skipped, err);
  }
  return FollowRecords(store, dump.records, std::move(start), interval, writer,
                       output_fd, skipped, err);
}

// Flushes the output. Returns false, after a message on `err`, if a write
// failed for a reason other than a reader that went away (a full disk, an
// I/O error): the output then lacks rows and the dump must not exit 0.
bool OutputWritten(RowWriter* writer, std::ostream& err) {
  writer->Flush();
  int error = writer->write_errno();
  if (error == 0 || error == EPIPE) {
    return true;
  }
  err << kPrefix << "writing the output failed (" << std::strerror(error)
      << "); it is incomplete, so check the disk or file it goes to and "
         "run the dump again\n";
  return false;
}

// Opens the store, resolves --user, prints the rows and follows.
int Dump(DumpArgs dump, std::ostream& out, std::ostream& err) {
  // Installed before the scratch directory exists, so that a signal or a
  // closed pipe ends the dump through the return below, which removes it.
  InstallStopHandlers();
  SecondaryStore opened;
  if (int code = opened.Open(dump.store_path, kPrefix, err); code != kExitOk) {
    return code;
  }
  store::Store& store = opened.store();

  if (!dump.user_id.empty()) {
    store::Status status = store::ResolveConnection(
        store, dump.user_id, &dump.records.connection_id);
    if (status.IsNotFound()) {
      err << kPrefix << "user id " << dump.user_id
          << " is not in the store\n";
      return kExitUsage;
    }
    if (!status.ok()) {
      err << kPrefix << status.message() << "\n";
      return kExitStoreError;
    }
  }

  // --follow continues from the store state that the first dump prints.
  FollowStart start;
  store::Status status = store::Status::Ok();
  if (dump.follow) {
    status = ReadFollowStart(store, &start);
  }
  RowWriter writer(dump.format, SelectorColumns(dump.selector), out);
  SkippedEntries skipped;
  if (status.ok()) {
    status = PrintOnce(dump, store, &writer, &skipped, out, err);
  }
  if (status.ok() && dump.follow) {
    writer.Flush();
    status =
        Follow(dump, &store, std::move(start), &writer, out, &skipped, err);
  }
  if (dump.selector != Selector::kStats) {
    writer.Finish();
  }

  // One count of what was skipped, after every row, --follow included.
  skipped.PrintSummary(err);
  if (!status.ok()) {
    err << kPrefix << status.message() << "\n";
    return kExitStoreError;
  }
  // --follow runs until a signal, so only a plain dump is cut short by one.
  // Stats check no flag and print in one piece, so they are never cut short.
  if (StopRequested() && !dump.follow && dump.selector != Selector::kStats) {
    err << kPrefix << "stopped by signal " << StopSignal()
        << " before the end; the output is incomplete\n";
    return kExitSignalBase + StopSignal();
  }
  if (!OutputWritten(&writer, err)) {
    return kExitUsage;
  }
  return skipped.total() > 0 ? kExitIncomplete : kExitOk;
}

}  // namespace

int RunDumpCommand(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  DumpArgs dump;
  if (std::optional<int> exit_code = ParseArgs(args, &dump, out, err)) {
    return *exit_code;
  }
  if (std::optional<int> exit_code = ValidateArgs(&dump, err)) {
    return *exit_code;
  }
  return Dump(std::move(dump), out, err);
}

}  // namespace terra::tools
