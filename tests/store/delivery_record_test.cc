// The archived delivery format: round trips, a verbatim body and rejection
// of malformed bytes.

#include "store/delivery_record.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace terra::store {
namespace {

DeliveryRecord SampleRecord() {
  DeliveryRecord record;
  record.sequence = 42;
  record.received_ms = 1'782'900'000'123;
  record.source = Source::kReplay;
  record.trace_id = "trace:chunk:3";
  record.terra_reference = "d3f1a9c2";
  record.ordering_header_ms = 1'782'899'999'000;
  record.signed_at_s = 1'782'900'000;
  record.ordering_ms = 1'782'899'999'000;
  record.event_type = "sleep";
  record.user_id = "40f7b0e1";
  record.outcome = Outcome::kQuarantined;
  record.note = "1 of 2 items lack metadata.summary_id";
  record.records = 1;
  record.body = std::string("{\"type\":\"sleep\"}\0\xff tail", 23);
  return record;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery_record)

BOOST_AUTO_TEST_CASE(round_trip) {
  DeliveryRecord record = SampleRecord();
  DeliveryRecord decoded;
  BOOST_REQUIRE(DecodeDeliveryRecord(EncodeDeliveryRecord(record), &decoded));
  BOOST_TEST(decoded.sequence == record.sequence);
  BOOST_TEST(decoded.received_ms == record.received_ms);
  BOOST_TEST(SourceName(decoded.source) == "replay");
  BOOST_TEST(decoded.trace_id == record.trace_id);
  BOOST_TEST(decoded.terra_reference == record.terra_reference);
  BOOST_TEST(decoded.ordering_header_ms.value_or(0) == 1'782'899'999'000);
  BOOST_TEST(decoded.signed_at_s == record.signed_at_s);
  BOOST_TEST(decoded.ordering_ms == record.ordering_ms);
  BOOST_TEST(decoded.event_type == record.event_type);
  BOOST_TEST(decoded.user_id == record.user_id);
  BOOST_TEST(OutcomeName(decoded.outcome) == "quarantined");
  BOOST_TEST(decoded.note == record.note);
  BOOST_TEST(decoded.records == 1u);
  BOOST_TEST(decoded.body == record.body);
}

BOOST_AUTO_TEST_CASE(absent_ordering_header) {
  DeliveryRecord record = SampleRecord();
  record.ordering_header_ms.reset();
  DeliveryRecord decoded;
  decoded.ordering_header_ms = 7;
  BOOST_REQUIRE(DecodeDeliveryRecord(EncodeDeliveryRecord(record), &decoded));
  BOOST_TEST(!decoded.ordering_header_ms.has_value());
}

BOOST_AUTO_TEST_CASE(empty_body_kept) {
  DeliveryRecord record = SampleRecord();
  record.body.clear();
  DeliveryRecord decoded;
  BOOST_REQUIRE(DecodeDeliveryRecord(EncodeDeliveryRecord(record), &decoded));
  BOOST_TEST(decoded.body.empty());
}

BOOST_AUTO_TEST_CASE(malformed_rejected) {
  std::string bytes = EncodeDeliveryRecord(SampleRecord());
  std::string wrong_version = bytes;
  wrong_version[0] = 2;
  std::string long_header = bytes;
  long_header[1] = '\x7f';
  std::string bad_json = bytes;
  bad_json[5] = 'x';
  DeliveryRecord decoded;

  BOOST_TEST(!DecodeDeliveryRecord("", &decoded));
  BOOST_TEST(!DecodeDeliveryRecord(bytes.substr(0, 3), &decoded));
  BOOST_TEST(!DecodeDeliveryRecord(wrong_version, &decoded));
  BOOST_TEST(!DecodeDeliveryRecord(long_header, &decoded));
  BOOST_TEST(!DecodeDeliveryRecord(bad_json, &decoded));
}

BOOST_AUTO_TEST_CASE(outcome_names_round_trip) {
  for (Outcome outcome : {Outcome::kStored, Outcome::kRecorded,
                          Outcome::kArchived, Outcome::kQuarantined}) {
    Outcome parsed = Outcome::kStored;
    BOOST_TEST_CONTEXT(OutcomeName(outcome)) {
      BOOST_TEST(ParseOutcomeName(OutcomeName(outcome), &parsed));
      BOOST_TEST((parsed == outcome));
    }
  }
  Outcome parsed;
  BOOST_TEST(!ParseOutcomeName("lost", &parsed));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::store
