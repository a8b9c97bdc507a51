#include "tools/dump_command.h"

#include <stdlib.h>

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "store/keys.h"
#include "store/queries.h"
#include "store/store.h"
#include "tools/exit_codes.h"

namespace terra::tools {
namespace {

namespace po = boost::program_options;

constexpr std::string_view kPrefix = "terra-syncctl dump: ";

struct DumpArgs {
  std::string store_path;
  std::string what;  // "connections" or "records"
  std::string user_id;
  store::RecordFilter filter;
};

po::options_description DumpOptions(DumpArgs* args) {
  po::options_description options(
      "Usage: terra-syncctl dump --store DIR connections|records [options]\n"
      "Prints connections or records as NDJSON, one object per line");
  options.add_options()              //
      ("help,h", "print this help")  //
      ("store", po::value(&args->store_path)->required(),
       "directory of the store (may be in use by terra-syncd)")  //
      ("user", po::value(&args->user_id),
       "only this Terra user id (old or new after a reauth)")  //
      ("type", po::value(&args->filter.type),
       "records: only this data type, for example sleep")  //
      ("from", po::value(&args->filter.from_date),
       "records: first date, YYYY-MM-DD, inclusive")  //
      ("to", po::value(&args->filter.to_date),
       "records: last date, YYYY-MM-DD, inclusive")  //
      ("natural-id", po::value(&args->filter.natural_id),
       "records: only this natural id (date, summary id or other id)");
  return options;
}

// Parses `args`. Returns the exit code to end with after an error or --help,
// or nullopt when the command should run.
std::optional<int> ParseArgs(const std::vector<std::string>& args,
                             DumpArgs* dump, std::ostream& out,
                             std::ostream& err) {
  po::options_description options = DumpOptions(dump);
  po::options_description hidden;
  hidden.add_options()("what", po::value(&dump->what));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("what", 1);

  try {
    po::variables_map values;
    po::store(
        po::command_line_parser(args).options(all).positional(positional).run(),
        values);
    if (values.count("help") > 0) {
      out << options << "\n";
      return kExitOk;
    }
    po::notify(values);
  } catch (const po::error& error) {
    err << kPrefix << error.what()
        << "; run terra-syncctl dump --help for usage\n";
    return kExitUsage;
  }
  return std::nullopt;
}

std::optional<int> ValidateArgs(const DumpArgs& dump, std::ostream& err) {
  if (dump.what != "connections" && dump.what != "records") {
    err << kPrefix << "expected `connections` or `records`, got \"" << dump.what
        << "\"; run terra-syncctl dump --help for usage\n";
    return kExitUsage;
  }
  for (const auto& [name, date] : {std::pair{"--from", &dump.filter.from_date},
                                   std::pair{"--to", &dump.filter.to_date}}) {
    if (!date->empty() && !store::IsCalendarDate(*date)) {
      err << kPrefix << name << " \"" << *date
          << "\" is not a date; use YYYY-MM-DD\n";
      return kExitUsage;
    }
  }
  return std::nullopt;
}

// A scratch directory for the secondary instance's own files, removed with
// everything in it when the dump ends.
class ScratchDir {
 public:
  ScratchDir() {
    std::filesystem::path base = std::filesystem::temp_directory_path();
    std::string pattern = (base / "terra-syncctl-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) {
      path_ = pattern;
    }
  }
  ~ScratchDir() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Empty if the directory could not be created.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string RecordToJson(const store::RecordView& record) {
  const store::Envelope& envelope = *record.envelope;
  boost::json::object line;
  line["connection_id"] = record.connection_id;
  line["type"] = record.type;
  line["natural_id"] = record.natural_id;
  line["date"] = envelope.date;
  line["ordering_ms"] = envelope.ordering_ms;
  line["sequence"] = envelope.sequence;
  line["source"] = store::SourceName(envelope.source);
  line["delivery"] = envelope.delivery;
  // The materialized item is a JSON object (ForEachRecord checked it).
  boost::system::error_code ec;
  line["item"] = boost::json::parse(envelope.item_json, ec);
  return boost::json::serialize(line);
}

store::Status DumpConnections(const store::Store& store,
                              std::string_view only_connection,
                              std::ostream& out) {
  return store::ForEachConnection(
      store, [&](std::string_view id, const store::Connection& connection) {
        if (only_connection.empty() || id == only_connection) {
          out << store::ConnectionToJson(id, connection) << "\n";
        }
        return true;
      });
}

store::Status DumpRecords(const store::Store& store,
                          const store::RecordFilter& filter, std::ostream& out,
                          std::ostream& err) {
  return store::ForEachRecord(
      store, filter,
      [&](const store::RecordView& record) {
        out << RecordToJson(record) << "\n";
        return true;
      },
      [&](std::string_view key) {
        err << kPrefix << "skipped a malformed record (key of " << key.size()
            << " bytes)\n";
      });
}

// Opens the store, resolves --user and prints the objects.
int Dump(DumpArgs dump, std::ostream& out, std::ostream& err) {
  ScratchDir scratch;
  if (scratch.path().empty()) {
    err << kPrefix << "cannot create a temporary directory in "
        << std::filesystem::temp_directory_path().string()
        << "; set TMPDIR to a writable directory\n";
    return kExitStoreError;
  }
  store::StoreOptions options;
  options.path = dump.store_path;
  options.secondary = true;
  options.secondary_path = scratch.path();
  std::unique_ptr<store::Store> store;
  if (store::Status status = store::Store::Open(options, &store);
      !status.ok()) {
    err << kPrefix << "cannot open store: " << status.message() << "\n";
    return kExitStoreError;
  }

  if (!dump.user_id.empty()) {
    store::Status status = store::ResolveConnection(*store, dump.user_id,
                                                    &dump.filter.connection_id);
    if (status.IsNotFound()) {
      err << "terra-syncctl: user id " << dump.user_id
          << " is not in the store\n";
      return kExitUsage;
    }
    if (!status.ok()) {
      err << kPrefix << status.message() << "\n";
      return kExitStoreError;
    }
  }

  store::Status status =
      dump.what == "connections"
          ? DumpConnections(*store, dump.filter.connection_id, out)
          : DumpRecords(*store, dump.filter, out, err);
  if (!status.ok()) {
    err << kPrefix << status.message() << "\n";
    return kExitStoreError;
  }
  return kExitOk;
}

}  // namespace

int RunDumpCommand(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  DumpArgs dump;
  if (std::optional<int> exit_code = ParseArgs(args, &dump, out, err)) {
    return *exit_code;
  }
  if (std::optional<int> exit_code = ValidateArgs(dump, err)) {
    return *exit_code;
  }
  return Dump(std::move(dump), out, err);
}

}  // namespace terra::tools
