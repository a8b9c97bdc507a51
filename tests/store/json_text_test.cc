// JsonText: exact text of numbers and strings, and parse(JsonText(v)) == v
// with kinds kept, for every fixture and every shape of the bench corpus.

#include "store/json_text.h"

#include <array>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/bench/payload_builder.h"
#include "tests/support/fixtures.h"

namespace terra::store {
namespace {

namespace json = boost::json;

// Returns "" if `a` and `b` are equal with the same kind at every node, else
// the JSON pointer of the first node that differs.
std::string FirstDifference(const json::value& a, const json::value& b,
                            const std::string& pointer = "") {
  if (a.kind() != b.kind()) {
    return pointer + ": kind differs";
  }
  if (a.is_array()) {
    const json::array& left = a.get_array();
    const json::array& right = b.get_array();
    if (left.size() != right.size()) return pointer + ": size differs";
    for (size_t i = 0; i < left.size(); ++i) {
      std::string found =
          FirstDifference(left[i], right[i], pointer + "/" + std::to_string(i));
      if (!found.empty()) return found;
    }
    return "";
  }
  if (a.is_object()) {
    const json::object& left = a.get_object();
    const json::object& right = b.get_object();
    if (left.size() != right.size()) return pointer + ": size differs";
    for (auto l = left.begin(), r = right.begin(); l != left.end(); ++l, ++r) {
      std::string member = pointer + "/" + std::string(l->key());
      if (l->key() != r->key()) return member + ": key or order differs";
      std::string found = FirstDifference(l->value(), r->value(), member);
      if (!found.empty()) return found;
    }
    return "";
  }
  return a == b ? "" : pointer + ": value differs";
}

// Returns "" if the text of `value` parses back to `value`, else the
// difference and the text.
std::string RoundTrip(const json::value& value) {
  std::string text = JsonText(value);
  boost::system::error_code error;
  json::value parsed = json::parse(text, error);
  if (error) return "parse failed: " + error.message() + " in " + text;
  std::string found = FirstDifference(parsed, value);
  return found.empty() ? "" : found + " in " + text;
}

// Text JsonText writes for each byte below 0x20.
constexpr std::array<std::string_view, 0x20> kControlEscapes = {
    R"(\u0000)", R"(\u0001)", R"(\u0002)", R"(\u0003)", R"(\u0004)",
    R"(\u0005)", R"(\u0006)", R"(\u0007)", R"(\b)",     R"(\t)",
    R"(\n)",     R"(\u000b)", R"(\f)",     R"(\r)",     R"(\u000e)",
    R"(\u000f)", R"(\u0010)", R"(\u0011)", R"(\u0012)", R"(\u0013)",
    R"(\u0014)", R"(\u0015)", R"(\u0016)", R"(\u0017)", R"(\u0018)",
    R"(\u0019)", R"(\u001a)", R"(\u001b)", R"(\u001c)", R"(\u001d)",
    R"(\u001e)", R"(\u001f)",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(double_text_exact) {
  const std::pair<double, std::string_view> kCases[] = {
      {72.5, "72.5"},
      {0.1, "0.1"},
      {1e300, "1e+300"},
      {3.0, "3.0"},
      {100.0, "100.0"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1e-7, "1e-07"},
      {123456.0, "123456.0"},
      {9412.7, "9412.7"},
      {-2450.8, "-2450.8"},
      {1e16, "1e+16"},
      {5e-324, "5e-324"},
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
  };
  for (const auto& [value, text] : kCases) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(JsonText(json::value(value)) == text);
      BOOST_TEST(RoundTrip(json::value(value)) == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(negative_zero_keeps_sign) {
  json::value parsed = json::parse(JsonText(json::value(-0.0)));
  BOOST_TEST(parsed.is_double());
  BOOST_TEST(std::signbit(parsed.get_double()));
}

BOOST_AUTO_TEST_CASE(non_finite_double_null) {
  for (double value : {std::numeric_limits<double>::quiet_NaN(),
                       std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()}) {
    BOOST_TEST(JsonText(json::value(value)) == "null");
  }
  json::array array = {1.5, std::numeric_limits<double>::infinity()};
  BOOST_TEST(JsonText(json::value(array)) == "[1.5,null]");
}

BOOST_AUTO_TEST_CASE(integer_text_exact) {
  const std::pair<json::value, std::string_view> kCases[] = {
      {json::value(0), "0"},
      {json::value(-1), "-1"},
      {json::value(int64_t{9007199254740993}), "9007199254740993"},
      {json::value(std::numeric_limits<int64_t>::max()), "9223372036854775807"},
      {json::value(std::numeric_limits<int64_t>::min()),
       "-9223372036854775808"},
      {json::value(std::numeric_limits<uint64_t>::max()),
       "18446744073709551615"},
  };
  for (const auto& [value, text] : kCases) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(JsonText(value) == text);
      BOOST_TEST(RoundTrip(value) == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(integer_beyond_uint64_double) {
  // Boost.JSON 1.81 parses an integer literal beyond uint64 as a double.
  json::value parsed = json::parse("100000000000000000000");
  BOOST_TEST(JsonText(parsed) == "1e+20");
  BOOST_TEST(RoundTrip(parsed) == "");
}

BOOST_AUTO_TEST_CASE(control_characters_escaped) {
  for (unsigned c = 0; c < 0x20; ++c) {
    BOOST_TEST_CONTEXT("byte " << c) {
      std::string text(1, static_cast<char>(c));
      BOOST_TEST(JsonText(json::value(text)) ==
                 "\"" + std::string(kControlEscapes[c]) + "\"");
      BOOST_TEST(RoundTrip(json::value(text)) == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(quote_backslash_escaped) {
  BOOST_TEST(JsonText(json::value("a\"b")) == R"("a\"b")");
  BOOST_TEST(JsonText(json::value("a\\b")) == R"("a\\b")");
  BOOST_TEST(JsonText(json::value("/")) == R"("/")");
  BOOST_TEST(JsonText(json::value("\x7f")) == "\"\x7f\"");
}

BOOST_AUTO_TEST_CASE(utf8_passed_through) {
  // Two-, three- and four-byte UTF-8 sequences, between escapes.
  std::string text = "caf\xc3\xa9\n\xe2\x82\xac\t\xf0\x9f\x98\x80\"";
  BOOST_TEST(JsonText(json::value(text)) ==
             "\"caf\xc3\xa9\\n\xe2\x82\xac\\t\xf0\x9f\x98\x80\\\"\"");
  BOOST_TEST(RoundTrip(json::value(text)) == "");
}

BOOST_AUTO_TEST_CASE(every_byte_as_boost) {
  // The string escapes are the ones Boost.JSON 1.81 writes, so a string's
  // stored text does not change. Each byte is tried at every position of a
  // string longer than the eight bytes the writer scans at a time.
  constexpr size_t kLength = 20;
  for (unsigned c = 0; c < 0x100; ++c) {
    for (size_t position = 0; position < kLength; ++position) {
      std::string text(kLength, 'a');
      text[position] = static_cast<char>(c);
      json::value value(text);
      BOOST_TEST(JsonText(value) == json::serialize(value),
                 "byte " << c << " at " << position);
    }
  }
}

BOOST_AUTO_TEST_CASE(structure_text_exact) {
  json::value value = json::parse(
      R"({"b":[1,-2.5,"s",true,false,null,[],{}],"a":{"k\n":{"z":0,"y":1}}})");
  BOOST_TEST(
      JsonText(value) ==
      R"({"b":[1,-2.5,"s",true,false,null,[],{}],"a":{"k\n":{"z":0,"y":1}}})");
  BOOST_TEST(JsonText(json::value(json::object())) == "{}");
  BOOST_TEST(JsonText(json::value(json::array())) == "[]");
  BOOST_TEST(JsonText(value.get_object()) == JsonText(value));
}

BOOST_AUTO_TEST_CASE(append_keeps_prefix) {
  std::string text = "prefix:";
  AppendJsonText(json::value(72.5), &text);
  AppendJsonText(json::object{{"a", 1}}, &text);
  BOOST_TEST(text == R"(prefix:72.5{"a":1})");
}

BOOST_AUTO_TEST_CASE(size_hint_not_in_text) {
  json::value value = json::parse(testing::ReadFixture("sleep.json"));
  std::string text = JsonText(value);
  for (size_t hint : {size_t{0}, size_t{1}, text.size(), text.size() * 10}) {
    BOOST_TEST(JsonText(value, hint) == text, "hint " << hint);
  }
}

BOOST_AUTO_TEST_CASE(short_text_small_buffer) {
  // A score's text fits in the string's own small buffer, so storing it
  // allocates nothing.
  size_t small_capacity = std::string().capacity();
  BOOST_TEST(JsonText(json::value(45)).capacity() == small_capacity);
  BOOST_TEST(JsonText(json::value(72.5)).capacity() == small_capacity);
}

BOOST_AUTO_TEST_CASE(fixtures_round_trip) {
  size_t count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(TERRA_FIXTURES_DIR)) {
    if (entry.path().extension() != ".json") continue;
    BOOST_TEST_CONTEXT(entry.path().filename()) {
      json::value body = json::parse(testing::ReadFile(entry.path()));
      BOOST_TEST(RoundTrip(body) == "");
      ++count;
    }
  }
  BOOST_TEST(count >= 20u);
}

BOOST_AUTO_TEST_CASE(bench_shapes_round_trip) {
  bench::PayloadBuilder builder;
  std::string error;
  BOOST_REQUIRE_MESSAGE(builder.Load(TERRA_FIXTURES_DIR, &error), error);
  std::mt19937_64 rng(20260701);

  for (std::string type : {"daily", "sleep", "activity", "body"}) {
    for (size_t target_bytes : {size_t{0}, size_t{6000}, size_t{200000}}) {
      BOOST_TEST_CONTEXT(type << " of " << target_bytes << " bytes") {
        bench::PayloadSpec spec{
            .type = type,
            .user_id = "2245bd5f-bb68-6f68-22eb-92502318fa4e",
            .provider = "GARMIN",
            .date = "2026-06-01",
            .summary_id = type == "daily" || type == "body" ? "" : "s-1",
            .target_bytes = target_bytes};
        json::value body = json::parse(builder.Build(spec, &rng));
        BOOST_TEST(RoundTrip(body) == "");
        BOOST_TEST(RoundTrip(body.at("data").at(0)) == "");
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::store
