// End-to-end ingest through the real terra-syncd: signed deliveries over
// HTTP on 127.0.0.1, read back with terra-syncctl dump.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <set>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fixtures.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

namespace json = boost::json;

constexpr char kNewUser[] = "9c8b7a65-4321-4fed-a0b9-87c6d5e4f321";

int64_t Steps(const json::object& record) {
  return record.at("item").at("distance_data").at("steps").to_number<int64_t>();
}

const json::object* FindConnection(const std::vector<json::object>& connections,
                                   const std::string& id) {
  for (const auto& connection : connections) {
    if (connection.at("connection_id").as_string() == id) {
      return &connection;
    }
  }
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_ingest)

BOOST_AUTO_TEST_CASE(every_event_type_acknowledged) {
  DaemonFixture daemon;
  struct Case {
    const char* fixture;
    const char* outcome;
  };
  const Case cases[] = {
      {"auth_success.json", "recorded"},
      {"auth_error.json", "recorded"},
      {"auth_cancelled.json", "recorded"},
      {"permission_change.json", "recorded"},
      {"connection_error.json", "recorded"},
      {"large_request_processing.json", "recorded"},
      {"large_request_sending.json", "recorded"},
      {"healthcheck.json", "recorded"},
      {"activity.json", "stored"},
      {"athlete.json", "stored"},
      {"nutrition.json", "stored"},
      {"daily.json", "stored"},
      {"sleep.json", "stored"},
      {"menstruation.json", "stored"},
      {"body.json", "stored"},
      {"hormone.json", "stored"},
      {"planned_workout.json", "stored"},
      {"health_observation.json", "stored"},
      {"s3_payload.json", "archived"},
      {"lab_report_completed.json", "archived"},
      {"unknown_event.json", "archived"},
      {"access_revoked.json", "recorded"},
      {"user_reauth.json", "recorded"},
      {"deauth.json", "recorded"},
  };
  for (const Case& test : cases) {
    HttpResult result =
        daemon.Send(ReadFixture(test.fixture), std::string("trace-") + test.fixture);
    BOOST_TEST_CONTEXT(test.fixture) {
      BOOST_TEST(result.status == 200u);
      BOOST_TEST(result.body == std::string(test.outcome) + "\n");
    }
  }

  auto connections = daemon.Dump({"connections"});
  const json::object* connection = FindConnection(connections, kUserA);
  BOOST_REQUIRE(connection != nullptr);
  BOOST_TEST(connection->at("state").as_string() == "revoked");

  auto records = daemon.Dump({"records", "--user", kUserA});
  std::set<std::string> types;
  for (const auto& record : records) {
    types.insert(std::string(record.at("type").as_string()));
  }
  for (const char* type : {"activity", "athlete", "nutrition", "daily", "sleep",
                           "menstruation", "body", "hormone", "planned_workout",
                           "health_observation"}) {
    BOOST_TEST(types.count(type) == 1u, "no record of type " << type);
  }
}

BOOST_AUTO_TEST_CASE(retried_delivery_applied_once) {
  DaemonFixture daemon;
  std::string body = DailyBody(kUserA, "2026-03-01T00:00:00+00:00", 10);

  HttpResult first = daemon.Send(body, "retry-1", 1000);
  HttpResult second = daemon.Send(body, "retry-1", 1000);
  // A retry with a changed body but the same trace id is still the same
  // delivery to Terra, so it changes nothing either.
  HttpResult changed = daemon.Send(
      DailyBody(kUserA, "2026-03-01T00:00:00+00:00", 99), "retry-1", 2000);

  BOOST_TEST(first.body == "stored\n");
  BOOST_TEST(second.status == 200u);
  BOOST_TEST(second.body == "duplicate delivery, already stored\n");
  BOOST_TEST(changed.body == "duplicate delivery, already stored\n");
  auto records = daemon.Dump({"records", "--type", "daily"});
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
  BOOST_TEST(Steps(records[0]) == 10);
}

BOOST_AUTO_TEST_CASE(chunks_sharing_reference_both_applied) {
  DaemonFixture daemon;
  std::string march = DailyBody(kUserA, "2026-03-31T00:00:00+00:00", 31);
  std::string april = DailyBody(kUserA, "2026-04-01T00:00:00+00:00", 1);

  auto headers_march = SignedHeaders(daemon.secret(), march, "big:chunk:1");
  headers_march.push_back({"terra-reference", "ref-1"});
  auto headers_april = SignedHeaders(daemon.secret(), april, "big:chunk:2");
  headers_april.push_back({"terra-reference", "ref-1"});

  BOOST_TEST(daemon.SendWith(headers_march, march).body == "stored\n");
  BOOST_TEST(daemon.SendWith(headers_april, april).body == "stored\n");
  auto records = daemon.Dump({"records", "--type", "daily"});
  BOOST_TEST(WithNaturalId(records, "2026-03-31").size() == 1u);
  BOOST_TEST(WithNaturalId(records, "2026-04-01").size() == 1u);
}

BOOST_AUTO_TEST_CASE(older_copy_does_not_regress) {
  DaemonFixture daemon;
  int64_t now_ms = NowSeconds() * 1000;
  std::string newer = DailyBody(kUserA, "2026-03-02T00:00:00+00:00", 200);
  std::string older = DailyBody(kUserA, "2026-03-02T00:00:00+00:00", 100);

  BOOST_TEST(daemon.Send(newer, "newer", now_ms - 1000).status == 200u);
  BOOST_TEST(daemon.Send(older, "older", now_ms - 5000).status == 200u);

  auto records = daemon.Dump({"records", "--type", "daily"});
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
  BOOST_TEST(Steps(records[0]) == 200);
}

BOOST_AUTO_TEST_CASE(missing_ordering_header_uses_signed_time) {
  DaemonFixture daemon;
  int64_t now_ms = NowSeconds() * 1000;
  std::string first = DailyBody(kUserA, "2026-03-03T00:00:00+00:00", 1);
  std::string second = DailyBody(kUserA, "2026-03-03T00:00:00+00:00", 2);
  std::string stale = DailyBody(kUserA, "2026-03-03T00:00:00+00:00", 3);

  BOOST_TEST(daemon.Send(first, "first", now_ms - 60000).status == 200u);
  BOOST_TEST(daemon.Send(second, "second").status == 200u);  // no header
  BOOST_TEST(daemon.Send(stale, "stale", now_ms - 30000).status == 200u);

  auto records = daemon.Dump({"records", "--type", "daily"});
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
  BOOST_TEST(Steps(records[0]) == 2);
}

BOOST_AUTO_TEST_CASE(forged_ordering_header_capped) {
  DaemonFixture daemon;
  int64_t now_ms = NowSeconds() * 1000;
  std::string current = DailyBody(kUserA, "2026-03-04T00:00:00+00:00", 500);
  // An old body replayed with a header from the far future must not win:
  // the header is unsigned, so it is capped at the signed t.
  std::string replayed = DailyBody(kUserA, "2026-03-04T00:00:00+00:00", 1);

  BOOST_TEST(daemon.Send(current, "current", now_ms).status == 200u);
  BOOST_TEST(daemon.Send(replayed, "replayed", now_ms + 86400000LL * 365)
                 .status == 200u);

  auto records = daemon.Dump({"records", "--type", "daily"});
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
  BOOST_TEST(records[0].at("ordering_ms").to_number<int64_t>() <= now_ms + 1000);
}

BOOST_AUTO_TEST_CASE(offset_dates_keep_their_day) {
  DaemonFixture daemon;
  BOOST_TEST(daemon.Send(DailyBody(kUserA, "2026-03-29T00:00:00+01:00", 1), "plus-one")
                 .status == 200u);
  BOOST_TEST(daemon.Send(DailyBody(kUserA, "2026-03-28T23:30:00-05:00", 2), "minus-five")
                 .status == 200u);

  auto records = daemon.Dump({"records", "--type", "daily"});
  auto day29 = WithNaturalId(records, "2026-03-29");
  auto day28 = WithNaturalId(records, "2026-03-28");
  BOOST_REQUIRE_EQUAL(day29.size(), 1u);
  BOOST_REQUIRE_EQUAL(day28.size(), 1u);
  BOOST_TEST(Steps(day29[0]) == 1);
  BOOST_TEST(Steps(day28[0]) == 2);
}

BOOST_AUTO_TEST_CASE(sleep_moved_across_midnight) {
  DaemonFixture daemon;
  int64_t now_ms = NowSeconds() * 1000;
  BOOST_TEST(daemon.Send(SleepBody(kUserA, "sleep-1", "2026-03-10T23:30:00+00:00", 70),
                         "sleep-v1", now_ms - 2000)
                 .status == 200u);
  BOOST_TEST(daemon.Send(SleepBody(kUserA, "sleep-1", "2026-03-11T00:10:00+00:00", 75),
                         "sleep-v2", now_ms - 1000)
                 .status == 200u);

  auto all = daemon.Dump({"records", "--type", "sleep"});
  auto new_day = daemon.Dump({"records", "--type", "sleep", "--from",
                              "2026-03-11", "--to", "2026-03-11"});
  auto old_day = daemon.Dump({"records", "--type", "sleep", "--from",
                              "2026-03-10", "--to", "2026-03-10"});
  BOOST_REQUIRE_EQUAL(all.size(), 1u);
  BOOST_TEST(all[0].at("natural_id").as_string() == "sleep-1");
  BOOST_TEST(new_day.size() == 1u);
  BOOST_TEST(old_day.size() == 0u);
}

BOOST_AUTO_TEST_CASE(null_enrichment_keeps_stored_score) {
  DaemonFixture daemon;
  int64_t now_ms = NowSeconds() * 1000;
  std::string scored = SleepBody(kUserA, "sleep-2", "2026-03-12T22:00:00+00:00", 81);
  std::string unscored =
      SleepBody(kUserA, "sleep-2", "2026-03-12T22:00:00+00:00", std::nullopt);

  BOOST_TEST(daemon.Send(scored, "scored", now_ms - 2000).status == 200u);
  BOOST_TEST(daemon.Send(unscored, "unscored", now_ms - 1000).status == 200u);

  auto records = daemon.Dump({"records", "--type", "sleep"});
  BOOST_REQUIRE_EQUAL(records.size(), 1u);
  const json::value& score =
      records[0].at("item").at("data_enrichment").at("sleep_score");
  BOOST_TEST(score.to_number<double>() == 81.0);
  BOOST_TEST(records[0].at("ordering_ms").to_number<int64_t>() == now_ms - 1000);
}

BOOST_AUTO_TEST_CASE(reauth_keeps_one_connection) {
  DaemonFixture daemon;
  BOOST_TEST(daemon.Send(ReadFixture("auth_success.json"), "auth").status == 200u);
  BOOST_TEST(daemon.Send(ReadFixture("user_reauth.json"), "reauth").status == 200u);
  BOOST_TEST(daemon.Send(DailyBody(kNewUser, "2026-03-05T00:00:00+00:00", 7), "new-data")
                 .status == 200u);

  auto by_old = daemon.Dump({"records", "--user", kUserA});
  auto by_new = daemon.Dump({"records", "--user", kNewUser});
  BOOST_REQUIRE_EQUAL(by_old.size(), 1u);
  BOOST_REQUIRE_EQUAL(by_new.size(), 1u);
  BOOST_TEST(by_old[0].at("connection_id").as_string() == kUserA);
  BOOST_TEST(by_new[0].at("connection_id").as_string() == kUserA);

  auto connections = daemon.Dump({"connections"});
  BOOST_REQUIRE_EQUAL(connections.size(), 1u);
  const json::array& ids = connections[0].at("user_ids").as_array();
  BOOST_TEST(ids.size() == 2u);
}

BOOST_AUTO_TEST_CASE(data_before_auth_creates_connection) {
  DaemonFixture daemon;
  const std::string user = "0b7d8e2a-0000-4000-8000-00000000c0de";
  BOOST_TEST(daemon.Send(DailyBody(user, "2026-03-06T00:00:00+00:00", 3), "early")
                 .body == "stored\n");

  auto connections = daemon.Dump({"connections"});
  const json::object* connection = FindConnection(connections, user);
  BOOST_REQUIRE(connection != nullptr);
  BOOST_TEST(connection->at("state").as_string() == "active");
  BOOST_TEST(daemon.Dump({"records", "--user", user}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(invalid_json_quarantined) {
  DaemonFixture daemon;
  HttpResult result = daemon.Send("{\"type\": \"daily\", \"data\": [", "broken");
  HttpResult not_object = daemon.Send("[1, 2, 3]", "array");
  HttpResult no_user = daemon.Send(R"({"type":"daily","data":[]})", "no-user");

  BOOST_TEST(result.status == 200u);
  BOOST_TEST(result.body == "quarantined\n");
  BOOST_TEST(not_object.body == "quarantined\n");
  BOOST_TEST(no_user.body == "quarantined\n");
  BOOST_TEST(daemon.Dump({"records"}).empty());
}

BOOST_AUTO_TEST_CASE(oversize_body_rejected) {
  DaemonFixture daemon({"--max-body-size", "2K"});
  std::string body = DailyBody(kUserA, "2026-03-07T00:00:00+00:00", 1);
  body.insert(body.size() - 1, ",\"padding\":\"" + std::string(4096, 'x') + "\"");

  HttpResult result = daemon.Send(body, "too-big");

  BOOST_TEST(result.status == 413u);
  BOOST_TEST(daemon.Dump({"records"}).empty());
  BOOST_TEST(daemon.Dump({"connections"}).empty());
}

BOOST_AUTO_TEST_CASE(restart_keeps_everything) {
  DaemonFixture daemon;
  BOOST_TEST(daemon.Send(ReadFixture("auth_success.json"), "auth").status == 200u);
  BOOST_TEST(daemon.Send(ReadFixture("daily.json"), "daily").status == 200u);
  BOOST_TEST(daemon.Send(ReadFixture("sleep.json"), "sleep").status == 200u);
  auto records_before = daemon.Dump({"records"});
  auto connections_before = daemon.Dump({"connections"});

  daemon.Restart();

  BOOST_TEST(daemon.Dump({"records"}) == records_before);
  BOOST_TEST(daemon.Dump({"connections"}) == connections_before);
  BOOST_TEST(daemon.Send(ReadFixture("daily.json"), "daily").body ==
             "duplicate delivery, already stored\n");
  BOOST_TEST(daemon.Send(DailyBody(kUserA, "2026-03-08T00:00:00+00:00", 8), "after")
                 .body == "stored\n");
  BOOST_TEST(daemon.Dump({"records"}).size() == records_before.size() + 1);
}

BOOST_AUTO_TEST_CASE(large_body_archive_readable_after_restart) {
  DaemonFixture daemon;
  std::string body = DailyBody(kUserA, "2026-03-09T00:00:00+00:00", 9);
  body.insert(body.size() - 1,
              ",\"padding\":\"" + std::string(90 << 10, 'x') + "\"");
  BOOST_TEST(daemon.Send(body, "large-1").body == "stored\n");

  // The restart flushes the body out of the memtable into the store's files,
  // where dump reads it through a secondary instance.
  daemon.Restart();
  auto deliveries = daemon.Dump({"deliveries", "--trace-id", "large-1"});
  BOOST_REQUIRE_EQUAL(deliveries.size(), 1u);
  BOOST_TEST(deliveries[0].at("body").as_string().size() == body.size());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
