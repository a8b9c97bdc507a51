// JsonLine: the text it builds parses back to the members it was given,
// whatever the strings hold.

#include "tools/json_line.h"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace terra::tools {
namespace {

namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(json_line)

BOOST_AUTO_TEST_CASE(empty_object) {
  JsonLine line;
  BOOST_TEST(line.Finish() == "{}");
}

BOOST_AUTO_TEST_CASE(members_parse_back) {
  const std::string escaped = "quote \" backslash \\ newline \n tab \t \x01";
  JsonLine line;
  line.AddString("plain", "2024-07-01");
  line.AddString("escaped", escaped);
  line.AddString("utf8", "caf\xc3\xa9 \xe2\x9c\x93");
  line.AddString("empty", "");
  line.AddInteger("negative", -1750000000001);
  line.AddInteger("min", std::numeric_limits<int64_t>::min());
  line.AddUnsigned("max", std::numeric_limits<uint64_t>::max());
  line.AddRaw("item", R"({"a":[1,2.5,null],"b":"x"})");
  line.AddString("name \"quoted\"", "v");

  json::value parsed = json::parse(line.Finish());
  json::object expected{
      {"plain", "2024-07-01"},
      {"escaped", escaped},
      {"utf8", "caf\xc3\xa9 \xe2\x9c\x93"},
      {"empty", ""},
      {"negative", -1750000000001},
      {"min", std::numeric_limits<int64_t>::min()},
      {"max", std::numeric_limits<uint64_t>::max()},
      {"item", json::parse(R"({"a":[1,2.5,null],"b":"x"})")},
      {"name \"quoted\"", "v"},
  };
  BOOST_TEST(parsed == json::value(expected));
}

BOOST_AUTO_TEST_CASE(clear_starts_a_new_object) {
  JsonLine line;
  line.AddString("first", "1");
  (void)line.Finish();

  line.Clear();
  line.AddUnsigned("second", 2);
  BOOST_TEST(line.Finish() == R"({"second":2})");
}

BOOST_AUTO_TEST_CASE(long_escaped_string) {
  // Longer than the serializer's chunk, with escapes throughout.
  std::string value;
  for (int i = 0; i < 2000; ++i) {
    value += (i % 7 == 0) ? '"' : static_cast<char>('a' + i % 26);
  }
  JsonLine line;
  line.AddString("v", value);
  BOOST_TEST(json::parse(line.Finish()).at("v").as_string() == value);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::tools
