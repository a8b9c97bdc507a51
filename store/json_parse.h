// JSON parsing that reads each decimal number as the double nearest to its
// text. It accepts and rejects the same text as boost::json::parse and
// builds the same value, with one difference: a number with a fraction or
// an exponent is converted by std::from_chars, which libstdc++ 12 rounds
// correctly. Boost.JSON 1.81's own conversion can be
// one unit off in the last place for 16 or 17 significant digits: it reads
// `95309792552509.53` as the double that prints as `95309792552509.52`.
//
// Thread safety: ParseJson is reentrant.

#ifndef TERRA_STORE_JSON_PARSE_H_
#define TERRA_STORE_JSON_PARSE_H_

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string_view>

namespace terra::store {

// Default nesting limit, the same as boost::json::parse_options::max_depth.
inline constexpr size_t kDefaultJsonMaxDepth = 32;

// Largest nesting limit the store accepts. basic_parser recurses once per
// level on the calling thread's stack: 300,000 levels overflowed an 8 MiB
// stack in a test, and 1,000 stay far below that.
inline constexpr size_t kMaxJsonDepth = 1000;

// Parses `text`, one complete JSON document with optional surrounding
// whitespace, into a value whose memory comes from `storage`, or from the
// default resource when `storage` is null. The resource must outlive the
// value.
//
// On failure, returns null and sets `ec` to the error that
// boost::json::parse reports for the same text. That is
// json::error::too_deep when arrays and objects nest deeper than
// `max_depth`, json::error::incomplete for empty or truncated text and
// json::error::extra_data for anything after the document. Otherwise it is
// the syntax error of the document itself. Comments,
// trailing commas and invalid UTF-8 are rejected, as by default options.
//
// A number whose magnitude is beyond a double's range becomes infinity or
// zero with the number's sign, as with std::strtod, so callers that reject
// non-finite numbers keep doing so. Unlike boost::json::parse, a number
// that rounds to the largest finite double, such as
// 1.7976931348623158e308, stays finite.
//
// Integers are read as boost::json::parse reads them: int64 when they fit,
// else uint64, else the nearest double.
[[nodiscard]] boost::json::value ParseJson(
    std::string_view text, boost::system::error_code& ec,
    boost::json::storage_ptr storage = {},
    size_t max_depth = kDefaultJsonMaxDepth);

}  // namespace terra::store

#endif  // TERRA_STORE_JSON_PARSE_H_
