// ParseJson against boost::json::parse and std::strtod: every decimal is the
// nearest double, and everything else (values, kinds, errors) is the same
// as boost::json::parse.

#include "store/json_parse.h"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <string>

#include "store/json_text.h"
#include "tests/support/fixtures.h"

namespace terra::store {
namespace {

namespace json = boost::json;

// Renders `value` with the kind of every number, so that 1 as int64, uint64
// and double differ: `i:1`, `u:1`, `d:1.0`.
std::string KindedText(const json::value& value) {
  switch (value.kind()) {
    case json::kind::int64:
      return "i:" + JsonText(value);
    case json::kind::uint64:
      return "u:" + JsonText(value);
    case json::kind::double_:
      return "d:" + JsonText(value);
    case json::kind::array: {
      std::string text = "[";
      for (const json::value& element : value.get_array()) {
        text += KindedText(element) + ",";
      }
      return text + "]";
    }
    case json::kind::object: {
      std::string text = "{";
      for (const auto& member : value.get_object()) {
        text += JsonText(json::value(member.key())) + ":" +
                KindedText(member.value()) + ",";
      }
      return text + "}";
    }
    default:
      return JsonText(value);
  }
}

// Returns ParseJson's value of `text` as KindedText, or "error: " and the
// error's message.
std::string ParsedByUs(std::string_view text) {
  boost::system::error_code ec;
  json::value value = ParseJson(text, ec);
  return ec ? "error: " + ec.message() : KindedText(value);
}

// The same for boost::json::parse.
std::string ParsedByBoost(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  return ec ? "error: " + ec.message() : KindedText(value);
}

// Returns the double of `text` from ParseJson, or NaN if it is not one.
double ParsedDouble(const std::string& text) {
  boost::system::error_code ec;
  json::value value = ParseJson(text, ec);
  return !ec && value.is_double() ? value.get_double()
                                  : std::numeric_limits<double>::quiet_NaN();
}

// Decimals in their shortest round-trip form that Boost.JSON 1.81 parses to
// a neighbour of the nearest double. Found by comparing boost::json::parse
// with std::strtod on random 16- and 17-digit decimals, of which more than
// a quarter came out wrong.
const std::string kBoostMisrounded[] = {
    "95309792552509.53",  "1016393664567.0973",  "91783194730597.73",
    "2003106.9248204718", "-9261305018851.945",  "976328437638914.1",
    "1.7590641949375105", "-110.20864834365777", "93615194571742.55",
    "15889874106291.559", "-9163862.793589499",  "90.45156567889903",
};

// Returns a random decimal with 17 significant digits and the decimal point
// at a random place, with an exponent when `with_exponent` is set.
std::string RandomDecimal(std::mt19937_64* rng, bool with_exponent) {
  std::string digits(1, static_cast<char>('1' + (*rng)() % 9));
  for (int i = 0; i < 16; ++i) {
    digits += static_cast<char>('0' + (*rng)() % 10);
  }
  size_t point = 1 + (*rng)() % 16;
  std::string text = digits.substr(0, point) + "." + digits.substr(point);
  if ((*rng)() % 2 == 0) {
    text = "-" + text;
  }
  if (with_exponent) {
    text += "e" + std::to_string(static_cast<int>((*rng)() % 600) - 300);
  }
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_parse)

BOOST_AUTO_TEST_CASE(boost_misrounded_decimals_exact) {
  for (const std::string& text : kBoostMisrounded) {
    BOOST_TEST_CONTEXT(text) {
      double nearest = std::strtod(text.c_str(), nullptr);
      // The case still shows the Boost.JSON 1.81 error that ParseJson fixes.
      BOOST_TEST(json::parse(text).as_double() != nearest);

      BOOST_TEST(ParsedDouble(text) == nearest);
      boost::system::error_code ec;
      BOOST_TEST(JsonText(ParseJson(text, ec)) == text);
    }
  }
}

BOOST_AUTO_TEST_CASE(misrounded_inside_document) {
  std::string text = R"({"a":[95309792552509.53,{"b":91783194730597.73}]})";
  boost::system::error_code ec;
  json::value value = ParseJson(text, ec);
  BOOST_TEST(!ec);
  BOOST_TEST(JsonText(value) == text);
}

BOOST_AUTO_TEST_CASE(random_decimals_match_strtod) {
  constexpr int kTrials = 20000;
  std::mt19937_64 rng(20260701);
  int differing = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::string text = RandomDecimal(&rng, trial % 2 == 1);
    double nearest = std::strtod(text.c_str(), nullptr);
    if (ParsedDouble(text) != nearest) {
      BOOST_TEST_MESSAGE("differs from strtod: " << text);
      ++differing;
    }
  }
  BOOST_TEST(differing == 0);
}

BOOST_AUTO_TEST_CASE(range_edges_as_strtod) {
  constexpr double kMax = std::numeric_limits<double>::max();
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  constexpr double kDenormMin = std::numeric_limits<double>::denorm_min();
  BOOST_TEST(ParsedDouble("1e400") == kInfinity);
  BOOST_TEST(ParsedDouble("-1e400") == -kInfinity);
  BOOST_TEST(ParsedDouble("1.7976931348623159e308") == kInfinity);
  BOOST_TEST(ParsedDouble("1.7976931348623157e308") == kMax);
  BOOST_TEST(ParsedDouble("5e-324") == kDenormMin);
  BOOST_TEST(ParsedDouble("1e-400") == 0.0);
  BOOST_TEST(!std::signbit(ParsedDouble("1e-400")));
  BOOST_TEST(ParsedDouble("-1e-400") == 0.0);
  BOOST_TEST(std::signbit(ParsedDouble("-1e-400")));
}

BOOST_AUTO_TEST_CASE(range_edges_boost_misrounded) {
  // Boost.JSON 1.81 reads the first as infinity and the second as zero.
  BOOST_TEST(ParsedDouble("1.7976931348623158e308") ==
             std::numeric_limits<double>::max());
  BOOST_TEST(ParsedDouble("2.4703282292062328e-324") ==
             std::numeric_limits<double>::denorm_min());
}

BOOST_AUTO_TEST_CASE(values_as_boost) {
  const std::string kCases[] = {
      "0",
      "-0",
      "0.0",
      "-0.0",
      "72.5",
      "-2450.8",
      "1e2",
      "1E+2",
      "-2.5e-3",
      "0.1",
      "9223372036854775807",
      "-9223372036854775808",
      "9223372036854775808",
      "18446744073709551615",
      "18446744073709551616",
      "100000000000000000000",
      "-100000000000000000000",
      "true",
      "false",
      "null",
      R"("")",
      R"("a\"b\\c\/d\b\f\n\r\t\u0001\u00e9\ud83d\ude00")",
      "\"caf\xc3\xa9\"",
      "[]",
      "{}",
      " \t\r\n[1, -2.5, \"s\", true, null] \n",
      R"({"b":[1,{"c":{"d":[[],{}]}}],"a":{"k\n":{"z":0,"y":1.5}},"b":2})",
  };
  for (const std::string& text : kCases) {
    BOOST_TEST(ParsedByUs(text) == ParsedByBoost(text), text);
  }
}

BOOST_AUTO_TEST_CASE(negative_zero_double_kept) {
  boost::system::error_code ec;
  json::value value = ParseJson("-0.0", ec);
  BOOST_TEST(value.is_double());
  BOOST_TEST(std::signbit(value.get_double()));
}

BOOST_AUTO_TEST_CASE(fixtures_as_boost) {
  // The fixtures hold only decimals that Boost.JSON 1.81 rounds correctly.
  size_t count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(TERRA_FIXTURES_DIR)) {
    if (entry.path().extension() != ".json") continue;
    std::string text = testing::ReadFile(entry.path());
    BOOST_TEST(ParsedByUs(text) == ParsedByBoost(text),
               entry.path().filename());
    ++count;
  }
  BOOST_TEST(count >= 20u);
}

BOOST_AUTO_TEST_CASE(errors_as_boost) {
  const std::string kCases[] = {
      "",
      " ",
      "[",
      "{\"a\":",
      "{\"a\" 1}",
      "\"unterminated",
      "-",
      "1.",
      "1e",
      "01",
      "+1",
      ".5",
      "NaN",
      "Infinity",
      "nul",
      "tru",
      "[1,]",
      "{\"a\":1,}",
      "/* comment */ 1",
      "1 // comment",
      R"("\x")",
      R"("\ud800")",
      "\"\xff\"",
      "\"a\x01\"",
      "1 2",
      "{} x",
      "[]]",
      "1e99999999999",
      std::string(33, '[') + std::string(33, ']'),
      "{\"a\":" + std::string(32, '[') + std::string(32, ']') + "}",
  };
  for (const std::string& text : kCases) {
    BOOST_TEST_CONTEXT(text) {
      boost::system::error_code parse_json_error;
      boost::system::error_code boost_error;
      json::value value = ParseJson(text, parse_json_error);
      (void)json::parse(text, boost_error);
      BOOST_TEST(parse_json_error.failed());
      BOOST_TEST(parse_json_error == boost_error,
                 parse_json_error.message() << " vs " << boost_error.message());
      BOOST_TEST(value.is_null());
    }
  }
}

BOOST_AUTO_TEST_CASE(named_errors) {
  boost::system::error_code ec;
  (void)ParseJson("", ec);
  BOOST_TEST(ec == json::error::incomplete);
  (void)ParseJson("{\"a\":1", ec);
  BOOST_TEST(ec == json::error::incomplete);
  (void)ParseJson("{} x", ec);
  BOOST_TEST(ec == json::error::extra_data);
  (void)ParseJson("{}{}", ec);
  BOOST_TEST(ec == json::error::extra_data);
  (void)ParseJson(std::string(33, '[') + std::string(33, ']'), ec);
  BOOST_TEST(ec == json::error::too_deep);
}

BOOST_AUTO_TEST_CASE(max_depth_as_boost) {
  json::parse_options options;
  for (size_t max_depth : {size_t{1}, size_t{4}, size_t{64}}) {
    options.max_depth = max_depth;
    for (size_t depth : {max_depth, max_depth + 1}) {
      BOOST_TEST_CONTEXT("depth " << depth << " of " << max_depth) {
        std::string text = std::string(depth, '[') + std::string(depth, ']');
        boost::system::error_code parse_json_error;
        boost::system::error_code boost_error;
        (void)ParseJson(text, parse_json_error, {}, max_depth);
        (void)json::parse(text, boost_error, {}, options);
        BOOST_TEST(parse_json_error == boost_error);
        BOOST_TEST((parse_json_error == json::error::too_deep) ==
                   (depth > max_depth));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(value_in_given_storage) {
  json::monotonic_resource arena;
  boost::system::error_code ec;
  json::value value = ParseJson(R"({"a":[1.5,"text"]})", ec, &arena);
  BOOST_TEST(!ec);
  BOOST_TEST(value.storage().get() == &arena);
  BOOST_TEST(value.at("a").storage().get() == &arena);
}

BOOST_AUTO_TEST_CASE(large_document_as_boost) {
  // More values than fit in the value stack's initial buffer.
  std::string text = "[";
  for (int i = 0; i < 5000; ++i) {
    text += "{\"n\":" + std::to_string(i) + ".25,\"s\":\"x\"},";
  }
  text += "95309792552509.53]";
  boost::system::error_code ec;
  json::value value = ParseJson(text, ec);
  BOOST_TEST(!ec);
  BOOST_TEST(value.as_array().size() == 5001u);
  BOOST_TEST(JsonText(value.as_array().back()) == "95309792552509.53");
  BOOST_TEST(JsonText(value.as_array()[4999]) == R"({"n":4999.25,"s":"x"})");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::store
