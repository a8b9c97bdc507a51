#include "store/envelope.h"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <limits>
#include <string>

namespace terra::store {
namespace {

Envelope SampleEnvelope() {
  Envelope envelope;
  envelope.ordering_ms = -5;
  envelope.sequence = std::numeric_limits<uint64_t>::max();
  envelope.source = Source::kReconcile;
  envelope.delivery = 77;
  envelope.date = "2024-03-01";
  envelope.item_json =
      R"({"metadata":{"start_time":"2024-03-01T00:00:00+01:00"},)"
      R"("data_enrichment":{"sleep_score":null,"stress_score":12}})";
  envelope.enrichment["sleep_score"] = {100, 3, "81"};
  envelope.enrichment["stress_score"] = {100, 3, "12"};
  return envelope;
}

boost::json::value Enrichment(const std::string& item_json) {
  return boost::json::parse(item_json).at("data_enrichment");
}

BOOST_AUTO_TEST_SUITE(envelope)

BOOST_AUTO_TEST_CASE(round_trip) {
  Envelope original = SampleEnvelope();
  Envelope decoded;
  BOOST_TEST(DecodeEnvelope(EncodeEnvelope(original), &decoded));
  BOOST_TEST((decoded == original));
}

BOOST_AUTO_TEST_CASE(round_trip_empty_fields) {
  Envelope original;
  Envelope decoded;
  BOOST_TEST(DecodeEnvelope(EncodeEnvelope(original), &decoded));
  BOOST_TEST((decoded == original));
}

BOOST_AUTO_TEST_CASE(view_points_into_bytes) {
  Envelope original = SampleEnvelope();
  std::string bytes = EncodeEnvelope(original);

  Envelope decoded;
  std::string_view item;
  BOOST_TEST(DecodeEnvelopeView(bytes, &decoded, &item));

  BOOST_TEST(item == original.item_json);
  BOOST_TEST((item.data() >= bytes.data() &&
              item.data() + item.size() == bytes.data() + bytes.size()));
  BOOST_TEST(decoded.item_json.empty());
  // Encoding the view gives back the same bytes.
  BOOST_TEST(EncodeEnvelope(decoded, item) == bytes);
  BOOST_TEST(
      !DecodeEnvelopeView(bytes.substr(0, bytes.size() - 1), &decoded, &item));
}

BOOST_AUTO_TEST_CASE(every_truncation_rejected) {
  std::string bytes = EncodeEnvelope(SampleEnvelope());
  for (size_t length = 0; length < bytes.size(); ++length) {
    Envelope decoded;
    BOOST_TEST(
        !DecodeEnvelope(std::string_view(bytes).substr(0, length), &decoded),
        "prefix of " << length << " bytes");
  }
}

BOOST_AUTO_TEST_CASE(trailing_bytes_rejected) {
  Envelope decoded;
  BOOST_TEST(!DecodeEnvelope(EncodeEnvelope(SampleEnvelope()) + "x", &decoded));
}

BOOST_AUTO_TEST_CASE(unknown_version_rejected) {
  std::string bytes = EncodeEnvelope(SampleEnvelope());
  bytes[0] = 2;
  Envelope decoded;
  BOOST_TEST(!DecodeEnvelope(bytes, &decoded));
}

BOOST_AUTO_TEST_CASE(unknown_source_rejected) {
  std::string bytes = EncodeEnvelope(SampleEnvelope());
  bytes[17] = 9;  // after version, ordering_ms and sequence
  Envelope decoded;
  BOOST_TEST(!DecodeEnvelope(bytes, &decoded));
}

BOOST_AUTO_TEST_CASE(source_names) {
  for (Source source : {Source::kWebhook, Source::kBackfill, Source::kReconcile,
                        Source::kReplay}) {
    Source parsed = Source::kWebhook;
    BOOST_TEST(ParseSourceName(SourceName(source), &parsed));
    BOOST_TEST((parsed == source));
  }
  Source parsed = Source::kWebhook;
  BOOST_TEST(!ParseSourceName("rest", &parsed));
}

BOOST_AUTO_TEST_CASE(is_newer_orders_by_time_then_sequence) {
  Envelope a;
  Envelope b;
  a.ordering_ms = 10;
  a.sequence = 1;
  b.ordering_ms = 9;
  b.sequence = 5;
  BOOST_TEST(IsNewer(a, b));
  b.ordering_ms = 10;
  BOOST_TEST(IsNewer(b, a));
  BOOST_TEST(!IsNewer(a, a));
}

// Runs MaterializeItem on a copy of `envelope` and returns the item it
// leaves; `*ok` gets its result.
std::string Materialized(Envelope envelope, bool* ok = nullptr) {
  bool result = MaterializeItem(&envelope);
  if (ok != nullptr) *ok = result;
  return envelope.item_json;
}

BOOST_AUTO_TEST_CASE(materialize_overlays_null_score) {
  bool ok = false;
  std::string item = Materialized(SampleEnvelope(), &ok);
  BOOST_TEST(ok);
  BOOST_TEST(Enrichment(item).at("sleep_score") == boost::json::value(81));
  BOOST_TEST(Enrichment(item).at("stress_score") == boost::json::value(12));
}

BOOST_AUTO_TEST_CASE(materialize_null_enrichment_object) {
  Envelope envelope = SampleEnvelope();
  envelope.item_json = R"({"data_enrichment":null,"x":1})";
  std::string item = Materialized(envelope);
  BOOST_TEST(Enrichment(item).at("sleep_score") == boost::json::value(81));
  BOOST_TEST(boost::json::parse(item).at("x") == boost::json::value(1));
}

BOOST_AUTO_TEST_CASE(materialize_absent_enrichment_object) {
  Envelope envelope = SampleEnvelope();
  envelope.item_json = R"({"x":1})";
  std::string item = Materialized(envelope);
  BOOST_TEST(Enrichment(item).at("stress_score") == boost::json::value(12));
}

BOOST_AUTO_TEST_CASE(materialize_unchanged_when_equal) {
  Envelope envelope = SampleEnvelope();
  envelope.item_json = R"({"data_enrichment": {"sleep_score": 81,)"
                       R"( "stress_score": 12}})";
  BOOST_TEST(Materialized(envelope) == envelope.item_json);
}

BOOST_AUTO_TEST_CASE(materialize_unchanged_without_enrichment) {
  Envelope envelope = SampleEnvelope();
  envelope.enrichment.clear();
  envelope.item_json = "not even json";
  bool ok = false;
  BOOST_TEST(Materialized(envelope, &ok) == envelope.item_json);
  BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(materialize_rejects_non_object) {
  Envelope envelope = SampleEnvelope();
  envelope.item_json = "[1,2]";
  bool ok = true;
  BOOST_TEST(Materialized(envelope, &ok) == envelope.item_json);
  BOOST_TEST(!ok);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::store
