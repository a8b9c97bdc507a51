#include "store/keys.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace terra::store {
namespace {

using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(record_key_round_trip) {
  std::string key = RecordKey("conn", "daily", "2024-03-01");
  BOOST_TEST(key == "conn\0daily\0002024-03-01"s);

  RecordKeyParts parts;
  BOOST_TEST(ParseRecordKey(key, &parts));
  BOOST_TEST(parts.connection == "conn");
  BOOST_TEST(parts.type == "daily");
  BOOST_TEST(parts.natural_id == "2024-03-01");
}

BOOST_AUTO_TEST_CASE(record_key_wrong_arity) {
  RecordKeyParts parts;
  BOOST_TEST(!ParseRecordKey("a\0b"s, &parts));
  BOOST_TEST(!ParseRecordKey("a\0b\0c\0d"s, &parts));
  BOOST_TEST(!ParseRecordKey("abc", &parts));
}

BOOST_AUTO_TEST_CASE(record_prefix_selects_connection) {
  std::string key = RecordKey("conn", "daily", "2024-03-01");
  std::string other = RecordKey("conn2", "daily", "2024-03-01");
  BOOST_TEST(key.starts_with(RecordPrefix("conn")));
  BOOST_TEST(!other.starts_with(RecordPrefix("conn")));
  BOOST_TEST(key.starts_with(RecordPrefix("conn", "daily")));
  BOOST_TEST(!key.starts_with(RecordPrefix("conn", "dail")));
}

BOOST_AUTO_TEST_CASE(session_key_round_trip) {
  std::string key = SessionIndexKey("conn", "sleep", "2024-03-01", "s-1");
  BOOST_TEST(key.starts_with(SessionIndexPrefix("conn", "sleep")));
  BOOST_TEST(
      key.starts_with(SessionIndexPrefix("conn", "sleep", "2024-03-01")));
  BOOST_TEST(
      !key.starts_with(SessionIndexPrefix("conn", "sleep", "2024-03-0")));

  SessionIndexKeyParts parts;
  BOOST_TEST(ParseSessionIndexKey(key, &parts));
  BOOST_TEST(parts.connection == "conn");
  BOOST_TEST(parts.type == "sleep");
  BOOST_TEST(parts.date == "2024-03-01");
  BOOST_TEST(parts.summary_id == "s-1");
  BOOST_TEST(!ParseSessionIndexKey(RecordKey("a", "b", "c"), &parts));
}

BOOST_AUTO_TEST_CASE(key_component_validity) {
  BOOST_TEST(IsValidKeyComponent("user-1"));
  BOOST_TEST(!IsValidKeyComponent(""));
  BOOST_TEST(!IsValidKeyComponent("a\0b"s));
  BOOST_TEST(IsValidKeyComponent(std::string(1024, 'x')));
  BOOST_TEST(!IsValidKeyComponent(std::string(1025, 'x')));
}

BOOST_AUTO_TEST_CASE(sequence_key_sorts_numerically) {
  BOOST_TEST(EncodeSequenceKey(1) == "\0\0\0\0\0\0\0\1"s);
  BOOST_TEST(EncodeSequenceKey(255) < EncodeSequenceKey(256));
  BOOST_TEST(EncodeSequenceKey(0xffffffff) < EncodeSequenceKey(0x100000000));

  uint64_t sequence = 0;
  BOOST_TEST(
      DecodeSequenceKey(EncodeSequenceKey(0x0102030405060708), &sequence));
  BOOST_TEST(sequence == 0x0102030405060708u);
  BOOST_TEST(!DecodeSequenceKey("1234567", &sequence));
  BOOST_TEST(!DecodeSequenceKey("123456789", &sequence));
}

BOOST_AUTO_TEST_CASE(calendar_date_form) {
  BOOST_TEST(IsCalendarDate("2024-03-01"));
  BOOST_TEST(!IsCalendarDate("2024-3-01"));
  BOOST_TEST(!IsCalendarDate("2024/03/01"));
  BOOST_TEST(!IsCalendarDate("2024-03-01T00:00:00+01:00"));
  BOOST_TEST(!IsCalendarDate("2024-0a-01"));
  BOOST_TEST(!IsCalendarDate(""));
  BOOST_TEST(!IsCalendarDate("2026-13-45"));
  BOOST_TEST(!IsCalendarDate("2026-02-30"));
  BOOST_TEST(!IsCalendarDate("0000-00-00"));
  BOOST_TEST(IsCalendarDate("2024-02-29"));
  BOOST_TEST(!IsCalendarDate("2025-02-29"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::store
