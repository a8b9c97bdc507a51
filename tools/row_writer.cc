#include "tools/row_writer.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>

namespace terra::tools {
namespace {

namespace json = boost::json;

// Renders a member as one cell: strings as they are, null as empty, anything
// else as compact JSON.
std::string CellText(const json::value* value) {
  if (value == nullptr || value->is_null()) {
    return {};
  }
  if (value->is_string()) {
    return std::string(value->get_string());
  }
  return json::serialize(*value);
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    return text;
  }
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// Returns true for a byte that a terminal acts on instead of printing:
// C0 controls (escape sequences start with ESC) and DEL.
bool IsControl(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

// Returns true for a UTF-8 continuation byte, which cannot start a character.
bool IsContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

std::string TableCell(std::string text) {
  // Any control byte becomes a space, so that a stored value cannot move
  // the cursor, recolour the screen or set the terminal's title.
  std::replace_if(text.begin(), text.end(), IsControl, ' ');
  if (text.size() > kTableMaxCellWidth) {
    // Cut at a character boundary, so that the cell stays valid UTF-8.
    size_t end = kTableMaxCellWidth - 3;
    while (end > 0 && IsContinuation(text[end])) {
      --end;
    }
    text.resize(end);
    text += "...";
  }
  return text;
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "ndjson") return Format::kNdjson;
  if (name == "json") return Format::kJsonArray;
  if (name == "csv") return Format::kCsv;
  if (name == "table") return Format::kTable;
  return std::nullopt;
}

Format DefaultFormat() {
  return isatty(STDOUT_FILENO) == 1 ? Format::kTable : Format::kNdjson;
}

RowWriter::RowWriter(Format format, std::vector<std::string> columns,
                     std::ostream& out)
    : format_(format), columns_(std::move(columns)), out_(out) {}

bool RowWriter::WriteJsonText(std::string_view object_json) {
  errno = 0;
  if (format_ == Format::kJsonArray) {
    out_ << (rows_ == 0 ? "[\n" : ",\n");
  }
  out_ << object_json;
  if (format_ == Format::kNdjson) {
    out_ << '\n';
  }
  ++rows_;
  return CheckOutput();
}

bool RowWriter::Write(const json::object& row) {
  errno = 0;
  switch (format_) {
    case Format::kNdjson:
      out_ << json::serialize(row) << "\n";
      break;
    case Format::kJsonArray:
      out_ << (rows_ == 0 ? "[\n" : ",\n") << json::serialize(row);
      break;
    case Format::kCsv:
      if (!header_written_) {
        WriteCsvLine(columns_);
        header_written_ = true;
      }
      WriteCsvLine(Cells(row));
      break;
    case Format::kTable:
      held_.push_back(Cells(row));
      if (header_written_ || held_.size() >= kTableSampleRows) {
        PrintHeldRows();
      }
      break;
  }
  ++rows_;
  return CheckOutput();
}

bool RowWriter::CheckOutput() {
  if (!out_.good() && write_errno_ == 0) {
    write_errno_ = errno != 0 ? errno : EIO;
  }
  return out_.good();
}

void RowWriter::Flush() {
  if (format_ == Format::kTable && !held_.empty()) {
    PrintHeldRows();
  }
  errno = 0;
  out_.flush();
  CheckOutput();
}

void RowWriter::Finish() {
  if (format_ == Format::kJsonArray) {
    out_ << (rows_ == 0 ? "[]\n" : "\n]\n");
  }
  if (format_ == Format::kCsv && !header_written_) {
    WriteCsvLine(columns_);
  }
  Flush();
}

std::vector<std::string> RowWriter::Cells(const json::object& row) const {
  std::vector<std::string> cells;
  cells.reserve(columns_.size());
  for (const std::string& column : columns_) {
    cells.push_back(CellText(row.if_contains(column)));
  }
  return cells;
}

void RowWriter::WriteCsvLine(const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    out_ << (i == 0 ? "" : ",") << CsvField(cells[i]);
  }
  out_ << "\r\n";
}

void RowWriter::WriteTableLine(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string cell = TableCell(cells[i]);
    if (i + 1 < cells.size()) {
      cell.resize(std::max(cell.size(), widths_[i]), ' ');
      cell += "  ";
    }
    line += cell;
  }
  out_ << line << "\n";
}

void RowWriter::WidenColumns(const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    widths_[i] = std::max(widths_[i], TableCell(cells[i]).size());
  }
}

void RowWriter::PrintHeldRows() {
  if (!header_written_) {
    widths_.assign(columns_.size(), 0);
    WidenColumns(columns_);
    for (const std::vector<std::string>& cells : held_) {
      WidenColumns(cells);
    }
    WriteTableLine(columns_);
    header_written_ = true;
  }
  for (const std::vector<std::string>& cells : held_) {
    WriteTableLine(cells);
  }
  held_.clear();
}

}  // namespace terra::tools
