#include "store/connection.h"

#include <rocksdb/write_batch.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "store/store.h"
#include "tests/support/temp_dir.h"

namespace terra::store {
namespace {

ConnectionUpdate Update(int64_t ordering_ms, uint64_t sequence,
                        std::string state) {
  ConnectionUpdate update;
  update.ordering_ms = ordering_ms;
  update.sequence = sequence;
  update.received_ms = 1000 + static_cast<int64_t>(sequence);
  update.fields[std::string(kFieldState)] = std::move(state);
  update.events.push_back({ordering_ms, sequence, sequence, "event", ""});
  return update;
}

// Merges the encoded updates as operands with no existing value.
Connection Merge(const std::vector<ConnectionUpdate>& updates) {
  std::vector<std::string> encoded;
  for (const ConnectionUpdate& update : updates) {
    encoded.push_back(EncodeConnectionUpdate(update));
  }
  std::vector<std::string_view> operands(encoded.begin(), encoded.end());
  Connection connection;
  BOOST_REQUIRE(
      DecodeConnection(MergeConnection(nullptr, operands), &connection));
  return connection;
}

BOOST_AUTO_TEST_SUITE(connection)

BOOST_AUTO_TEST_CASE(deauth_before_older_auth) {
  ConnectionUpdate auth = Update(100, 1, std::string(kStateActive));
  ConnectionUpdate deauth = Update(200, 2, std::string(kStateRevoked));
  BOOST_TEST(Merge({deauth, auth}).Field(kFieldState) == kStateRevoked);
  BOOST_TEST(Merge({auth, deauth}).Field(kFieldState) == kStateRevoked);
}

BOOST_AUTO_TEST_CASE(same_time_sequence_breaks_tie) {
  ConnectionUpdate first = Update(100, 7, std::string(kStateActive));
  ConnectionUpdate second = Update(100, 8, std::string(kStateError));
  BOOST_TEST(Merge({second, first}).Field(kFieldState) == kStateError);
}

BOOST_AUTO_TEST_CASE(defaults_only_loses_to_real_update) {
  ConnectionUpdate defaults = Update(900, 50, std::string(kStateActive));
  defaults.defaults_only = true;
  defaults.fields[std::string(kFieldProvider)] = "GARMIN";
  ConnectionUpdate deauth = Update(-1, 1, std::string(kStateRevoked));

  Connection merged = Merge({deauth, defaults});
  BOOST_TEST(merged.Field(kFieldState) == kStateRevoked);
  BOOST_TEST(merged.Field(kFieldProvider) == "GARMIN");
  BOOST_TEST(Merge({defaults, deauth}).Field(kFieldState) == kStateRevoked);
}

BOOST_AUTO_TEST_CASE(user_ids_union_sorted) {
  ConnectionUpdate a = Update(1, 1, std::string(kStateActive));
  a.user_ids = {"u3", "u1"};
  ConnectionUpdate b = Update(2, 2, std::string(kStateActive));
  b.user_ids = {"u2", "u1"};
  std::vector<std::string> expected = {"u1", "u2", "u3"};
  BOOST_TEST(Merge({a, b}).user_ids == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(history_cap_keeps_newest) {
  std::vector<ConnectionUpdate> updates;
  size_t total = kMaxConnectionHistory + 10;
  for (size_t i = total; i > 0; --i) {
    updates.push_back(Update(static_cast<int64_t>(i), i, "active"));
  }
  Connection merged = Merge(updates);
  BOOST_TEST(merged.history.size() == kMaxConnectionHistory);
  BOOST_TEST(merged.history.front().sequence == 11u);
  BOOST_TEST(merged.history.back().sequence == total);
}

BOOST_AUTO_TEST_CASE(history_deduplicates_events) {
  ConnectionUpdate a = Update(5, 5, std::string(kStateActive));
  Connection merged = Merge({a, a});
  BOOST_TEST(merged.history.size() == 1u);
}

BOOST_AUTO_TEST_CASE(seen_times_are_min_and_max) {
  ConnectionUpdate a = Update(5, 5, std::string(kStateActive));
  ConnectionUpdate b = Update(1, 9, std::string(kStateActive));
  Connection merged = Merge({a, b});
  BOOST_TEST(merged.first_seen_ms == 1005);
  BOOST_TEST(merged.last_update_ms == 1009);
}

BOOST_AUTO_TEST_CASE(merge_of_merges_matches) {
  ConnectionUpdate a = Update(3, 1, std::string(kStateActive));
  ConnectionUpdate b = Update(1, 2, std::string(kStateRevoked));
  ConnectionUpdate c = Update(2, 3, std::string(kStateError));
  std::string ea = EncodeConnectionUpdate(a);
  std::string eb = EncodeConnectionUpdate(b);
  std::string ec = EncodeConnectionUpdate(c);

  std::string all = MergeConnection(nullptr, {ea, eb, ec});
  std::string partial = MergeConnection(nullptr, {ec, ea});
  std::string_view existing = eb;
  BOOST_TEST(MergeConnection(&existing, {partial}) == all);
}

BOOST_AUTO_TEST_CASE(malformed_operand_skipped) {
  std::string good = EncodeConnectionUpdate(Update(1, 1, "active"));
  size_t malformed = 0;
  std::string merged = MergeConnection(
      nullptr, {"{not json", good, R"({"version":2})"}, &malformed);
  BOOST_TEST(malformed == 2u);
  Connection connection;
  BOOST_TEST(DecodeConnection(merged, &connection));
  BOOST_TEST(connection.Field(kFieldState) == "active");
}

BOOST_AUTO_TEST_CASE(to_json_lists_fields) {
  ConnectionUpdate update = Update(1, 1, "active");
  update.fields[std::string(kFieldProvider)] = "OURA";
  update.user_ids = {"u1"};
  Connection connection = Merge({update});
  boost::json::value json =
      boost::json::parse(ConnectionToJson("c1", connection));
  BOOST_TEST(json.at("connection_id") == "c1");
  BOOST_TEST(json.at("state") == "active");
  BOOST_TEST(json.at("provider") == "OURA");
  BOOST_TEST(json.at("scopes") == "");
  BOOST_TEST(json.at("user_ids").as_array().size() == 1u);
  BOOST_TEST(json.at("history").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(merges_through_store) {
  terra::testing::TempDir dir;
  StoreOptions options;
  options.path = dir.path().string();
  std::unique_ptr<Store> store;
  BOOST_REQUIRE(Store::Open(options, &store).ok());

  // Newest first, with a flush between writes so that the operands meet in
  // flush, compaction and the read path.
  ConnectionUpdate defaults = Update(0, 1, std::string(kStateActive));
  defaults.defaults_only = true;
  for (const ConnectionUpdate& update :
       {Update(300, 4, std::string(kStateRevoked)),
        Update(100, 2, std::string(kStateActive)), defaults}) {
    rocksdb::WriteBatch batch;
    BOOST_REQUIRE(batch
                      .Merge(store->handle(Family::kConnections), "c1",
                             EncodeConnectionUpdate(update))
                      .ok());
    BOOST_REQUIRE(store->Write(&batch, false).ok());
    BOOST_REQUIRE(store->Flush().ok());
  }
  BOOST_REQUIRE(store->CompactFamily(Family::kConnections).ok());

  std::string bytes;
  BOOST_REQUIRE(store->Get(Family::kConnections, "c1", &bytes).ok());
  Connection connection;
  BOOST_REQUIRE(DecodeConnection(bytes, &connection));
  BOOST_TEST(connection.Field(kFieldState) == kStateRevoked);
  BOOST_TEST(connection.history.size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::store
