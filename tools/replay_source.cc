#include "tools/replay_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "store/store.h"
#include "tools/capture_format.h"
#include "tools/exit_codes.h"
#include "tools/store_opener.h"

namespace terra::tools {
namespace {

constexpr std::string_view kPrefix = "terra-syncctl replay: ";

int ReadStore(const ReplayInput& input, const ReplayVisitor& visit,
              ReplayTally* tally, std::ostream& err) {
  SecondaryStore opened;
  if (int code = opened.Open(input.path, kPrefix, err); code != kExitOk) {
    return code;
  }
  const store::Store& store = opened.store();

  // Sequences grow through the archive, so the position in the range of
  // sequences measures progress without counting first.
  double last = std::max<double>(1, static_cast<double>(store.LastSequence()));
  store::Status status = store::ForEachDelivery(
      store, input.filter,
      [&](const store::DeliveryRecord& delivery) {
        return visit(delivery, static_cast<double>(delivery.sequence) / last);
      },
      [&](uint64_t sequence) {
        err << kPrefix << "archived delivery " << sequence << " in store "
            << input.path << " is malformed; skipped\n";
        tally->Skipped();
      });
  if (!status.ok()) {
    err << kPrefix << status.message() << "\n";
    return kExitStoreError;
  }
  return kExitOk;
}

int ReadCapture(const ReplayInput& input, const ReplayVisitor& visit,
                ReplayTally* tally, std::ostream& err) {
  std::ifstream in(input.path, std::ios::binary);
  if (!in) {
    err << kPrefix << "cannot open capture file " << input.path
        << "; check the path and its permissions\n";
    return kExitUsage;
  }
  std::error_code size_error;
  double size = std::max<double>(
      1,
      static_cast<double>(std::filesystem::file_size(input.path, size_error)));

  std::string line;
  for (uint64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") {
      continue;
    }
    store::DeliveryRecord delivery;
    std::string error;
    if (!ParseCaptureLine(line, &delivery, &error)) {
      err << kPrefix << input.path << " line " << number << ": " << error
          << (input.stop_on_invalid
                  ? "; stopping (pass --on-invalid skip to read on)\n"
                  : "; skipped\n");
      tally->Skipped();
      if (input.stop_on_invalid) return kExitIncomplete;
      continue;
    }
    double position = in.tellg() < 0 ? size : static_cast<double>(in.tellg());
    if (!visit(std::move(delivery), position / size)) {
      break;
    }
  }
  if (in.bad()) {
    err << kPrefix << "reading capture file " << input.path << " failed\n";
    return kExitUsage;
  }
  return kExitOk;
}

// Lists the `.json` files of `directory` in name order. Only the names are
// held, not the bodies.
std::vector<std::filesystem::path> ListBodies(const std::string& directory,
                                              std::error_code* error) {
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(directory, *error), end;
       !*error && it != end; it.increment(*error)) {
    if (it->path().extension() == ".json" && it->is_regular_file()) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

int ReadBodies(const ReplayInput& input, const ReplayVisitor& visit,
               ReplayTally* tally, std::ostream& err) {
  std::error_code error;
  std::vector<std::filesystem::path> files = ListBodies(input.path, &error);
  if (error) {
    err << kPrefix << "cannot list directory " << input.path << ": "
        << error.message() << "\n";
    return kExitUsage;
  }

  for (size_t i = 0; i < files.size(); ++i) {
    std::ifstream in(files[i], std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) {
      err << kPrefix << "cannot read body file " << files[i].string()
          << (input.stop_on_invalid ? "; stopping\n" : "; skipped\n");
      tally->Skipped();
      if (input.stop_on_invalid) return kExitIncomplete;
      continue;
    }
    store::DeliveryRecord delivery;
    delivery.body = body.str();
    if (!visit(std::move(delivery), static_cast<double>(i + 1) /
                                        static_cast<double>(files.size()))) {
      break;
    }
  }
  return kExitOk;
}

}  // namespace

int ReadReplayInput(const ReplayInput& input, const ReplayVisitor& visit,
                    ReplayTally* tally, std::ostream& err) {
  switch (input.kind) {
    case ReplayInput::Kind::kStore:
      return ReadStore(input, visit, tally, err);
    case ReplayInput::Kind::kCapture:
      return ReadCapture(input, visit, tally, err);
    case ReplayInput::Kind::kBodies:
      return ReadBodies(input, visit, tally, err);
  }
  return kExitUsage;
}

int ListReplayInput(const ReplayInput& input, const TraceIdPolicy& trace_ids,
                    std::string_view verb, ReplayTally* tally,
                    std::ostream& out, std::ostream& err) {
  uint64_t index = 0;
  return ReadReplayInput(
      input,
      [&](store::DeliveryRecord record, double) {
        std::string trace_id = ReplayTraceId(record, trace_ids, index++);
        out << DescribeDelivery(verb, record, trace_id) << "\n";
        tally->Planned();
        return true;
      },
      tally, err);
}

}  // namespace terra::tools
