// Compact JSON text of a parsed Boost.JSON value, as the store keeps items
// and `data_enrichment` scores. Boost.JSON 1.81's serializer writes doubles
// in E-notation (72.5 as `7.25E1`), which users do not expect. This writer
// gives each double its shortest round-trip form (`72.5`), and it takes
// fewer instructions than the serializer (tests/bench/callgrind measures).
//
// Output rules, the same for every overload:
//   - no whitespace; object members in their stored order;
//   - integers in decimal;
//   - a double in the shortest form that std::to_chars reads back as the
//     same double (72.5, 0.1, 1e+300, 1e-07). When that form has no '.',
//     'e' or 'E', `.0` is appended (3.0, -0.0), so it parses back as a
//     double, not an integer;
//   - a non-finite double (NaN or infinity) as `null`, because JSON has no
//     text for it;
//   - strings with `"` and `\` escaped, control characters below 0x20 as
//     \b \f \n \r \t or \u00xx with lowercase hex, and every other byte
//     copied as it is. These are the escapes Boost.JSON 1.81 writes, so a
//     string's text is the same as before. Bytes are not checked as UTF-8:
//     a parsed value is valid UTF-8 already.
//
// Recursion depth is the nesting depth of the value, which the parser's
// max_depth bounds for every value the store writes.
//
// Thread safety: the functions are reentrant. Concurrent calls on one value
// are safe as long as no thread modifies it.

#ifndef TERRA_STORE_JSON_TEXT_H_
#define TERRA_STORE_JSON_TEXT_H_

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <string>

namespace terra::store {

// Appends the JSON text of `value` to `*out`.
void AppendJsonText(const boost::json::value& value, std::string* out);

// Appends the JSON text of `object` to `*out`.
void AppendJsonText(const boost::json::object& object, std::string* out);

// Returns the JSON text of `value`. `size_hint` is the expected length of the
// text, reserved up front so that the string does not grow several times. A
// hint that is too small costs further growth, and one that is too large
// costs unused capacity; neither changes the text.
std::string JsonText(const boost::json::value& value, size_t size_hint = 0);

// Returns the JSON text of `object`; `size_hint` as for the overload above.
std::string JsonText(const boost::json::object& object, size_t size_hint = 0);

}  // namespace terra::store

#endif  // TERRA_STORE_JSON_TEXT_H_
