// Output formats of `terra-syncctl dump`: each printed item is a JSON object,
// written as NDJSON, as one JSON array, as CSV with chosen columns, or as an
// aligned table for a terminal. Rows stream out as they come; the table
// holds back only its first kTableSampleRows rows to size its columns.
//
// Thread safety: one thread at a time.

#ifndef TERRA_TOOLS_ROW_WRITER_H_
#define TERRA_TOOLS_ROW_WRITER_H_

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace terra::tools {

enum class Format { kNdjson, kJsonArray, kCsv, kTable };

// Parses "ndjson", "json", "csv" or "table".
[[nodiscard]] std::optional<Format> ParseFormat(std::string_view name);

// Returns kTable when standard output is a terminal, else kNdjson.
[[nodiscard]] Format DefaultFormat();

// Rows that the table collects before it prints its header; later rows use
// the widths found so far, and a longer cell widens only its own line.
inline constexpr size_t kTableSampleRows = 100;

// Cells longer than this are cut in the table (never in CSV or JSON), so one
// long note does not push every other column off the screen.
inline constexpr size_t kTableMaxCellWidth = 48;

class RowWriter {
 public:
  // `columns` are the members of each row that CSV and the table print, in
  // order; NDJSON and JSON print whole rows. `out` must outlive the writer.
  RowWriter(Format format, std::vector<std::string> columns, std::ostream& out);

  // Writes one row. Returns false once `out` has failed (for example a closed
  // pipe), so that callers can stop reading the store.
  bool Write(const boost::json::object& row);

  // Returns true for NDJSON and the JSON array, which print whole rows as
  // JSON text and so can take rows through WriteJsonText.
  bool writes_json() const {
    return format_ == Format::kNdjson || format_ == Format::kJsonArray;
  }

  // Writes one row given as the text of a JSON object, copied as it is, for
  // callers that build rows faster than through a JSON tree (JsonLine).
  // REQUIRES: writes_json(), and `object_json` is one valid JSON object.
  bool WriteJsonText(std::string_view object_json);

  // Prints held-back table rows and flushes `out`; used by --follow between
  // polls.
  void Flush();

  // Returns false once a write to `out` has failed.
  bool ok() const { return out_.good(); }

  // The errno of the first failed write (EPIPE when the reader went away),
  // or 0 while every write succeeded.
  int write_errno() const { return write_errno_; }

  // Ends the output: closes the JSON array, prints held-back table rows.
  void Finish();

 private:
  std::vector<std::string> Cells(const boost::json::object& row) const;
  void WriteCsvLine(const std::vector<std::string>& cells);
  void WriteTableLine(const std::vector<std::string>& cells);
  void WidenColumns(const std::vector<std::string>& cells);
  void PrintHeldRows();
  // Records write_errno_ when `out_` has just failed; returns out_.good().
  bool CheckOutput();

  Format format_;
  std::vector<std::string> columns_;
  std::ostream& out_;
  size_t rows_ = 0;
  bool header_written_ = false;
  int write_errno_ = 0;
  std::vector<size_t> widths_;
  std::vector<std::vector<std::string>> held_;
};

}  // namespace terra::tools

#endif  // TERRA_TOOLS_ROW_WRITER_H_
