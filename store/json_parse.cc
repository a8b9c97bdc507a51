#include "store/json_parse.h"

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/string.hpp>
#include <boost/json/string_view.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

namespace terra::store {
namespace {

namespace json = boost::json;

// Bytes of the stack buffer that the value stack starts with, so that a
// small document is built without heap allocations. A larger document
// continues in the storage resource. boost::json::parse uses 4096 as well.
constexpr size_t kValueStackBufferBytes = 4096;

// Converts the full text of a JSON number to the nearest double.
// `boost_value` is Boost.JSON's own conversion of the same text.
double ToDouble(std::string_view text, double boost_value) {
  double value = 0;
  const char* end = text.data() + text.size();
  std::from_chars_result result = std::from_chars(text.data(), end, value);

  // from_chars leaves `value` unset when the magnitude is too large or too
  // small for a double. Boost's value is then infinity or (near) zero, which
  // distinguishes the two, and the result is strtod's infinity or zero.
  if (result.ec == std::errc::result_out_of_range) {
    double magnitude = std::abs(boost_value) >= 1.0
                           ? std::numeric_limits<double>::infinity()
                           : 0.0;
    return text.front() == '-' ? -magnitude : magnitude;
  }

  // Every text that basic_parser passes as a number is valid input to
  // from_chars, so this branch only guards against a Boost change.
  if (result.ec != std::errc() || result.ptr != end) {
    return boost_value;
  }
  return value;
}

// Handler for json::basic_parser that builds the document on a
// json::value_stack, as boost::json::parser does, except that it converts
// doubles from their text with ToDouble. basic_parser fixes the names of
// the members below, so they do not follow the project's naming.
// NOLINTBEGIN(readability-identifier-naming)
class ValueBuilder {
 public:
  static constexpr size_t max_object_size = json::object::max_size();
  static constexpr size_t max_array_size = json::array::max_size();
  static constexpr size_t max_key_size = json::string::max_size();
  static constexpr size_t max_string_size = json::string::max_size();

  // `buffer` must outlive the builder.
  ValueBuilder(unsigned char* buffer, size_t size)
      : stack_(json::storage_ptr(), buffer, size) {}

  json::value_stack& stack() { return stack_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }

  bool on_object_end(size_t size, json::error_code&) {
    stack_.push_object(size);
    return true;
  }

  bool on_array_end(size_t size, json::error_code&) {
    stack_.push_array(size);
    return true;
  }

  bool on_key_part(json::string_view part, size_t, json::error_code&) {
    stack_.push_chars(part);
    return true;
  }

  bool on_key(json::string_view last_part, size_t, json::error_code&) {
    stack_.push_key(last_part);
    return true;
  }

  bool on_string_part(json::string_view part, size_t, json::error_code&) {
    stack_.push_chars(part);
    return true;
  }

  bool on_string(json::string_view last_part, size_t, json::error_code&) {
    stack_.push_string(last_part);
    return true;
  }

  // basic_parser hands over a number in parts when the input ends inside
  // it, so the parts are kept until the number is complete.
  bool on_number_part(json::string_view part, json::error_code&) {
    number_text_.append(part.data(), part.size());
    return true;
  }

  bool on_int64(int64_t value, json::string_view, json::error_code&) {
    number_text_.clear();
    stack_.push_int64(value);
    return true;
  }

  bool on_uint64(uint64_t value, json::string_view, json::error_code&) {
    number_text_.clear();
    stack_.push_uint64(value);
    return true;
  }

  bool on_double(double boost_value, json::string_view last_part,
                 json::error_code&) {
    std::string_view text = last_part;
    if (!number_text_.empty()) {
      number_text_.append(last_part.data(), last_part.size());
      text = number_text_;
    }
    stack_.push_double(ToDouble(text, boost_value));
    number_text_.clear();
    return true;
  }

  bool on_bool(bool value, json::error_code&) {
    stack_.push_bool(value);
    return true;
  }

  bool on_null(json::error_code&) {
    stack_.push_null();
    return true;
  }

  // Comments are rejected by the parse options before they get here.
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  json::value_stack stack_;
  std::string number_text_;
};
// NOLINTEND(readability-identifier-naming)

}  // namespace

json::value ParseJson(std::string_view text, boost::system::error_code& ec,
                      json::storage_ptr storage, size_t max_depth) {
  unsigned char buffer[kValueStackBufferBytes];
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<ValueBuilder> parser(options, buffer, sizeof(buffer));
  parser.handler().stack().reset(std::move(storage));

  // `more` is false because the text is the whole document, so text that
  // ends inside it fails with json::error::incomplete.
  size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    return nullptr;
  }

  // The parser stops after the document and its trailing whitespace, so
  // anything left over is extra data, as boost::json::parser::write reports.
  if (used < text.size()) {
    ec = json::error::extra_data;
    return nullptr;
  }
  return parser.handler().stack().release();
}

}  // namespace terra::store
