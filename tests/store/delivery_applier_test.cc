// DeliveryApplier against a real store: each fixture is applied, written by
// a real Committer and read back through the queries of store/queries.h.

#include "store/delivery_applier.h"

#include <rocksdb/iterator.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "store/committer.h"
#include "store/connection.h"
#include "store/delivery_record.h"
#include "store/json_parse.h"
#include "store/keys.h"
#include "store/queries.h"
#include "store/store.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

namespace terra::store {
namespace {

namespace json = boost::json;

constexpr std::string_view kUserId = "40f7b0e1-89e2-43ac-a5b8-1e29c8d47cad";
constexpr std::string_view kNewUserId = "9c8b7a65-4321-4fed-a0b9-87c6d5e4f321";
constexpr int64_t kReceivedMs = 1'782'900'000'000;
constexpr auto kCommitTimeout = std::chrono::seconds(10);

// A store in a temporary directory with an applier and a committer.
class StoreUnderTest {
 public:
  explicit StoreUnderTest(size_t json_max_depth = 16) {
    std::filesystem::create_directory(dir_.Sub("store"));
    StoreOptions options;
    options.path = dir_.Sub("store");
    Status status = Store::Open(options, &store_);
    BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
    committer_ = std::make_unique<Committer>(store_.get(), CommitterOptions());
    applier_ = std::make_unique<DeliveryApplier>(
        store_.get(), ApplierOptions{.json_max_depth = json_max_depth});
  }

  ~StoreUnderTest() { committer_->Stop(); }

  // Applies `body` as a webhook with the given trace id and ordering time,
  // commits it and returns what the applier did.
  AppliedDelivery Apply(const std::string& body, const std::string& trace_id,
                        int64_t ordering_ms = kReceivedMs) {
    AppliedDelivery applied = ApplyOnly(body, trace_id, ordering_ms);
    BOOST_REQUIRE_EQUAL(Commit(&applied), "committed");
    return applied;
  }

  AppliedDelivery ApplyOnly(const std::string& body,
                            const std::string& trace_id, int64_t ordering_ms) {
    Delivery delivery;
    delivery.received_ms = kReceivedMs;
    delivery.trace_id = trace_id;
    delivery.signed_at_s = kReceivedMs / 1000;
    delivery.ordering_ms = ordering_ms;
    delivery.body = body;
    AppliedDelivery applied;
    Status status = applier_->Apply(std::move(delivery), &applied);
    BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
    return applied;
  }

  // Commits and returns "committed", "duplicate" or "failed".
  std::string Commit(AppliedDelivery* applied) {
    std::promise<CommitResult> done;
    std::future<CommitResult> result = done.get_future();
    committer_->Submit(std::move(applied->request),
                       [&done](const CommitResult& r) { done.set_value(r); });
    BOOST_REQUIRE(result.wait_for(kCommitTimeout) == std::future_status::ready);
    switch (result.get().outcome) {
      case CommitResult::Outcome::kCommitted:
        return "committed";
      case CommitResult::Outcome::kDuplicate:
        return "duplicate";
      case CommitResult::Outcome::kFailed:
        break;
    }
    return "failed";
  }

  Store& store() { return *store_; }

 private:
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<DeliveryApplier> applier_;
};

std::string Fixture(const std::string& name) {
  return testing::ReadFixture(name + ".json");
}

// Returns the fixture with the existing JSON value at `pointer` replaced.
std::string Edit(const std::string& body, std::string_view pointer,
                 json::value value) {
  json::value parsed = json::parse(body);
  parsed.at_pointer(pointer) = std::move(value);
  return json::serialize(parsed);
}

std::string ConnectionOf(Store& store, std::string_view user_id) {
  std::string connection_id;
  Status status = ResolveConnection(store, user_id, &connection_id);
  return status.ok() ? connection_id : "<" + status.message() + ">";
}

// Returns the connection of `user_id`, or an empty one if there is none.
Connection ConnectionFor(Store& store, std::string_view user_id) {
  Connection found;
  std::string connection_id;
  if (!ResolveConnection(store, user_id, &connection_id).ok()) {
    return found;
  }
  Status status = ForEachConnection(
      store, [&](std::string_view id, const Connection& connection) {
        if (id == connection_id) {
          found = connection;
        }
        return true;
      });
  BOOST_REQUIRE(status.ok());
  return found;
}

size_t ConnectionCount(Store& store) {
  size_t count = 0;
  Status status =
      ForEachConnection(store, [&](std::string_view, const Connection&) {
        ++count;
        return true;
      });
  BOOST_REQUIRE(status.ok());
  return count;
}

// Renders matching records as "connection/type/natural_id@date" lines.
std::string RecordIds(Store& store, const RecordFilter& filter) {
  std::string lines;
  Status status = ForEachRecord(store, filter, [&](const RecordView& record) {
    lines += std::string(record.connection_id) + "/" +
             std::string(record.type) + "/" + std::string(record.natural_id) +
             "@" + record.envelope->date + "\n";
    return true;
  });
  BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
  return lines;
}

// Returns the materialized item of one record, or null if it is absent.
json::value RecordItem(Store& store, std::string_view type,
                       std::string_view natural_id) {
  json::value item;
  RecordFilter filter{.connection_id = std::string(kUserId),
                      .type = std::string(type),
                      .natural_id = std::string(natural_id)};
  Status status = ForEachRecord(store, filter, [&](const RecordView& record) {
    item = json::parse(record.envelope->item_json);
    return false;
  });
  BOOST_REQUIRE(status.ok());
  return item;
}

// Returns the materialized item text of one record, or "" if it is absent.
std::string RecordItemText(Store& store, std::string_view type,
                           std::string_view natural_id) {
  std::string text;
  RecordFilter filter{.connection_id = std::string(kUserId),
                      .type = std::string(type),
                      .natural_id = std::string(natural_id)};
  Status status = ForEachRecord(store, filter, [&](const RecordView& record) {
    text = record.envelope->item_json;
    return false;
  });
  BOOST_REQUIRE(status.ok());
  return text;
}

// Returns `text` with its one occurrence of `from` replaced by `to`, so that a
// number keeps the exact text of the test rather than Boost's serialization.
std::string ReplaceOnce(std::string text, std::string_view from,
                        std::string_view to) {
  size_t at = text.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  BOOST_REQUIRE(text.find(from, at + 1) == std::string::npos);
  return text.replace(at, from.size(), to);
}

std::vector<json::object> Jobs(Store& store) {
  std::vector<json::object> jobs;
  std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(Family::kJobs);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    jobs.push_back(json::parse(it->value().ToString()).as_object());
  }
  return jobs;
}

DeliveryRecord Archived(Store& store, uint64_t sequence) {
  std::string bytes;
  DeliveryRecord record;
  BOOST_REQUIRE(
      store.Get(Family::kDeliveries, EncodeSequenceKey(sequence), &bytes).ok());
  BOOST_REQUIRE(DecodeDeliveryRecord(bytes, &record));
  return record;
}

std::string MetaValue(Store& store, std::string_view name) {
  std::string value;
  Status status = store.Get(Family::kMeta, name, &value);
  return status.ok() ? value : "<missing>";
}

struct RouteCase {
  std::string fixture;
  Outcome outcome;
  uint32_t records;
};

const RouteCase kRouteCases[] = {
    {"auth_success", Outcome::kRecorded, 0},
    {"auth_cancelled", Outcome::kRecorded, 0},
    {"auth_error", Outcome::kRecorded, 0},
    {"deauth", Outcome::kRecorded, 0},
    {"user_reauth", Outcome::kRecorded, 0},
    {"access_revoked", Outcome::kRecorded, 0},
    {"permission_change", Outcome::kRecorded, 0},
    {"connection_error", Outcome::kRecorded, 0},
    {"large_request_processing", Outcome::kRecorded, 0},
    {"large_request_sending", Outcome::kRecorded, 0},
    {"s3_payload", Outcome::kArchived, 0},
    {"activity", Outcome::kStored, 1},
    {"athlete", Outcome::kStored, 1},
    {"nutrition", Outcome::kStored, 1},
    {"daily", Outcome::kStored, 1},
    {"sleep", Outcome::kStored, 1},
    {"menstruation", Outcome::kStored, 1},
    {"body", Outcome::kStored, 1},
    {"hormone", Outcome::kStored, 1},
    {"planned_workout", Outcome::kStored, 1},
    {"health_observation", Outcome::kStored, 1},
    {"lab_report_completed", Outcome::kArchived, 0},
    {"healthcheck", Outcome::kRecorded, 0},
    {"unknown_event", Outcome::kArchived, 0},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery_applier)

BOOST_AUTO_TEST_CASE(fixtures_route_as_table) {
  for (const RouteCase& route : kRouteCases) {
    BOOST_TEST_CONTEXT(route.fixture) {
      StoreUnderTest store;
      std::string body = Fixture(route.fixture);
      AppliedDelivery applied = store.Apply(body, "trace-" + route.fixture);
      BOOST_TEST(OutcomeName(applied.outcome) == OutcomeName(route.outcome));
      BOOST_TEST(applied.records == route.records);

      DeliveryRecord archived = Archived(store.store(), applied.sequence);
      BOOST_TEST(archived.body == body);
      BOOST_TEST(OutcomeName(archived.outcome) == OutcomeName(route.outcome));
      BOOST_TEST(archived.records == route.records);
      BOOST_TEST(archived.trace_id == "trace-" + route.fixture);
    }
  }
}

BOOST_AUTO_TEST_CASE(s3_payload_expiry_read) {
  StoreUnderTest store;
  AppliedDelivery applied = store.Apply(
      R"({"type":"s3_payload","url":"https://example.com/p","expires_in":600})",
      "trace-s3");
  BOOST_TEST(applied.payload_url == "https://example.com/p");
  BOOST_TEST(applied.payload_expires_in_s == 600);
}

BOOST_AUTO_TEST_CASE(s3_payload_odd_expiry_ignored) {
  // Numbers that int64 cannot hold exactly once threw out of Apply.
  for (std::string expires_in : {"1e300", "2.5", "18446744073709551615"}) {
    BOOST_TEST_CONTEXT(expires_in) {
      StoreUnderTest store;
      AppliedDelivery applied =
          store.Apply(R"({"type":"s3_payload","url":"https://example.com/p",)"
                      R"("expires_in":)" +
                          expires_in + "}",
                      "trace-" + expires_in);
      BOOST_TEST(OutcomeName(applied.outcome) ==
                 OutcomeName(Outcome::kArchived));
      BOOST_TEST(applied.payload_url == "https://example.com/p");
      BOOST_TEST(applied.payload_expires_in_s == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(operational_events_recorded) {
  for (std::string type :
       {"processing", "rate_limit_hit", "google_no_datasource"}) {
    BOOST_TEST_CONTEXT(type) {
      StoreUnderTest store;
      std::string body =
          Edit(Fixture("connection_error"), "/type", json::value(type));
      AppliedDelivery applied = store.Apply(body, "trace-" + type);
      BOOST_TEST(OutcomeName(applied.outcome) == "recorded");
      BOOST_TEST(ConnectionOf(store.store(), kUserId) == kUserId);
    }
  }
}

BOOST_AUTO_TEST_CASE(auth_success_activates_and_queues) {
  StoreUnderTest store;
  AppliedDelivery applied = store.Apply(Fixture("auth_success"), "t1");
  Connection connection = ConnectionFor(store.store(), kUserId);
  std::vector<json::object> jobs = Jobs(store.store());

  BOOST_TEST(applied.backfill_queued);
  BOOST_TEST(connection.Field(kFieldState) == kStateActive);
  BOOST_TEST(connection.Field(kFieldProvider) == "GARMIN");
  BOOST_TEST(connection.Field(kFieldReferenceId) == "your-user-123");
  BOOST_TEST(connection.Field(kFieldScopes) == "ACTIVITY_EXPORT,HEALTH_EXPORT");
  BOOST_REQUIRE(jobs.size() == 1u);
  BOOST_TEST(jobs[0].at("kind").as_string() == "backfill");
  BOOST_TEST(jobs[0].at("state").as_string() == "queued");
  BOOST_TEST(jobs[0].at("connection_id").as_string() == kUserId);
  BOOST_TEST(jobs[0].at("days").to_number<int>() == 28);
  BOOST_TEST(jobs[0].at("delivery").to_number<uint64_t>() == applied.sequence);
}

BOOST_AUTO_TEST_CASE(auth_failure_creates_nothing) {
  for (std::string fixture : {"auth_error", "auth_cancelled"}) {
    BOOST_TEST_CONTEXT(fixture) {
      StoreUnderTest store;
      AppliedDelivery applied = store.Apply(Fixture(fixture), "t1");
      BOOST_TEST(!applied.backfill_queued);
      BOOST_TEST(applied.note.find("your-user-123") != std::string::npos);
      BOOST_TEST(ConnectionCount(store.store()) == 0u);
      BOOST_TEST(Jobs(store.store()).empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(lifecycle_sets_state) {
  const std::pair<std::string, std::string_view> kCases[] = {
      {"deauth", kStateRevoked},
      {"access_revoked", kStateRevoked},
      {"connection_error", kStateError},
  };
  for (const auto& [fixture, state] : kCases) {
    BOOST_TEST_CONTEXT(fixture) {
      StoreUnderTest store;
      (void)store.Apply(Fixture("auth_success"), "t1", kReceivedMs - 1000);
      (void)store.Apply(Fixture(fixture), "t2", kReceivedMs);
      BOOST_TEST(ConnectionFor(store.store(), kUserId).Field(kFieldState) ==
                 state);
    }
  }
}

BOOST_AUTO_TEST_CASE(older_auth_keeps_revoked) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("deauth"), "t1", kReceivedMs);
  (void)store.Apply(Fixture("auth_success"), "t2", kReceivedMs - 1000);
  BOOST_TEST(ConnectionFor(store.store(), kUserId).Field(kFieldState) ==
             kStateRevoked);
}

BOOST_AUTO_TEST_CASE(permission_change_sets_scopes) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("auth_success"), "t1", kReceivedMs - 1000);
  (void)store.Apply(Fixture("permission_change"), "t2", kReceivedMs);
  Connection connection = ConnectionFor(store.store(), kUserId);

  BOOST_TEST(connection.Field(kFieldScopes) ==
             "ACTIVITY_EXPORT,HEALTH_EXPORT,BODY_EXPORT");
  BOOST_REQUIRE(!connection.history.empty());
  BOOST_TEST(connection.history.back().event == "permission_change");
  BOOST_TEST(connection.history.back().detail ==
             "added BODY_EXPORT removed none");
}

BOOST_AUTO_TEST_CASE(data_before_auth_creates) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("daily"), "t1");
  Connection connection = ConnectionFor(store.store(), kUserId);

  BOOST_TEST(ConnectionOf(store.store(), kUserId) == kUserId);
  BOOST_TEST(connection.Field(kFieldState) == kStateActive);
  BOOST_TEST(connection.Field(kFieldProvider) == "GARMIN");
  BOOST_TEST(Jobs(store.store()).empty());
}

BOOST_AUTO_TEST_CASE(defaults_yield_to_deauth) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("deauth"), "t1", kReceivedMs - 1000);
  (void)store.Apply(Fixture("daily"), "t2", kReceivedMs);
  BOOST_TEST(ConnectionFor(store.store(), kUserId).Field(kFieldState) ==
             kStateRevoked);
}

BOOST_AUTO_TEST_CASE(user_reauth_maps_new_id) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("auth_success"), "t1", kReceivedMs - 2000);
  (void)store.Apply(Fixture("user_reauth"), "t2", kReceivedMs - 1000);
  std::string daily =
      Edit(Fixture("daily"), "/user/user_id", json::value(kNewUserId));
  AppliedDelivery applied = store.Apply(daily, "t3", kReceivedMs);

  BOOST_TEST(ConnectionOf(store.store(), kNewUserId) == kUserId);
  BOOST_TEST(ConnectionOf(store.store(), kUserId) == kUserId);
  BOOST_TEST(applied.connection_id == kUserId);
  BOOST_TEST(ConnectionCount(store.store()) == 1u);
  BOOST_TEST(RecordIds(store.store(), {}) ==
             std::string(kUserId) + "/daily/2026-07-01@2026-07-01\n");
  std::vector<std::string> user_ids =
      ConnectionFor(store.store(), kNewUserId).user_ids;
  bool listed =
      std::find(user_ids.begin(), user_ids.end(), kNewUserId) != user_ids.end();
  BOOST_TEST(listed);
}

BOOST_AUTO_TEST_CASE(user_reauth_after_early_data) {
  StoreUnderTest store;
  std::string early =
      Edit(Fixture("daily"), "/user/user_id", json::value(kNewUserId));
  (void)store.Apply(Fixture("auth_success"), "t1", kReceivedMs - 3000);
  (void)store.Apply(early, "t2", kReceivedMs - 2000);
  (void)store.Apply(Fixture("user_reauth"), "t3", kReceivedMs - 1000);

  // The early record stays under the connection its data created, which is
  // now marked merged, and readers of the old connection find it.
  std::string expected =
      std::string(kNewUserId) + "/daily/2026-07-01@2026-07-01\n";
  RecordFilter by_old{.connection_id = std::string(kUserId)};
  BOOST_TEST(RecordIds(store.store(), by_old) == expected);
  BOOST_TEST(ConnectionOf(store.store(), kNewUserId) == kUserId);
  std::string merged_state;
  Status status = ForEachConnection(
      store.store(), [&](std::string_view id, const Connection& connection) {
        if (id == kNewUserId) {
          merged_state = std::string(connection.Field(kFieldState));
        }
        return true;
      });
  BOOST_REQUIRE(status.ok());
  BOOST_TEST(merged_state == "merged");
}

BOOST_AUTO_TEST_CASE(user_reauth_unknown_old) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("user_reauth"), "t1");
  BOOST_TEST(ConnectionOf(store.store(), kUserId) == kUserId);
  BOOST_TEST(ConnectionOf(store.store(), kNewUserId) == kUserId);
}

BOOST_AUTO_TEST_CASE(calendar_day_as_delivered) {
  const std::pair<std::string, std::string> kCases[] = {
      {"2026-03-29T00:00:00+01:00", "2026-03-29"},
      {"2026-03-28T23:30:00-05:00", "2026-03-28"},
  };
  for (const auto& [start_time, date] : kCases) {
    BOOST_TEST_CONTEXT(start_time) {
      StoreUnderTest store;
      std::string body = Edit(Fixture("daily"), "/data/0/metadata/start_time",
                              json::value(start_time));
      (void)store.Apply(body, "t1");
      BOOST_TEST(RecordIds(store.store(), {.type = "daily"}) ==
                 std::string(kUserId) + "/daily/" + date + "@" + date + "\n");
    }
  }
}

BOOST_AUTO_TEST_CASE(sleep_moves_across_midnight) {
  StoreUnderTest store;
  std::string first = Fixture("sleep");
  std::string moved = Edit(first, "/data/0/metadata/start_time",
                           json::value("2026-07-01T00:05:00.000000+01:00"));
  (void)store.Apply(first, "t1", kReceivedMs - 1000);
  (void)store.Apply(moved, "t2", kReceivedMs);
  std::string id = std::string(kUserId) +
                   "/sleep/5f0c2a9e-7d41-4b8e-9a36-1c2d3e4f5a6b@2026-07-01\n";

  BOOST_TEST(RecordIds(store.store(), {.type = "sleep"}) == id);
  BOOST_TEST(RecordIds(store.store(), {.type = "sleep",
                                       .from_date = "2026-07-01",
                                       .to_date = "2026-07-01"}) == id);
  BOOST_TEST(RecordIds(store.store(), {.type = "sleep",
                                       .from_date = "2026-06-30",
                                       .to_date = "2026-06-30"}) == "");
  BOOST_TEST(RecordIds(store.store(), {.connection_id = std::string(kUserId),
                                       .type = "sleep",
                                       .from_date = "2026-06-01",
                                       .to_date = "2026-07-31"}) == id);
}

BOOST_AUTO_TEST_CASE(date_filter_per_date_type) {
  StoreUnderTest store;
  for (std::string date : {"2026-06-30", "2026-07-01", "2026-07-02"}) {
    std::string body = Edit(Fixture("daily"), "/data/0/metadata/start_time",
                            json::value(date + "T00:00:00+01:00"));
    (void)store.Apply(body, "t-" + date);
  }
  std::string prefix = std::string(kUserId) + "/daily/";
  BOOST_TEST(RecordIds(store.store(), {.connection_id = std::string(kUserId),
                                       .type = "daily",
                                       .from_date = "2026-07-01"}) ==
             prefix + "2026-07-01@2026-07-01\n" + prefix +
                 "2026-07-02@2026-07-02\n");
  BOOST_TEST(RecordIds(store.store(), {.to_date = "2026-06-30"}) ==
             prefix + "2026-06-30@2026-06-30\n");
}

BOOST_AUTO_TEST_CASE(older_copy_does_not_regress) {
  StoreUnderTest store;
  std::string daily = Fixture("daily");
  std::string newer = Edit(daily, "/data/0/distance_data/steps", 200);
  std::string older = Edit(daily, "/data/0/distance_data/steps", 100);
  (void)store.Apply(newer, "t1", kReceivedMs);
  (void)store.Apply(older, "t2", kReceivedMs - 1000);

  json::value item = RecordItem(store.store(), "daily", "2026-07-01");
  BOOST_TEST(item.at_pointer("/distance_data/steps").to_number<int>() == 200);
}

BOOST_AUTO_TEST_CASE(null_score_keeps_stored) {
  StoreUnderTest store;
  std::string daily = Fixture("daily");
  std::string newer = Edit(daily, "/data/0/distance_data/steps", 20000);
  newer = Edit(newer, "/data/0/data_enrichment/total_stress_score", nullptr);
  (void)store.Apply(daily, "t1", kReceivedMs - 1000);
  (void)store.Apply(newer, "t2", kReceivedMs);

  json::value item = RecordItem(store.store(), "daily", "2026-07-01");
  BOOST_TEST(item.at_pointer("/distance_data/steps").to_number<int>() == 20000);
  BOOST_TEST(
      item.at_pointer("/data_enrichment/total_stress_score").to_number<int>() ==
      45);
}

BOOST_AUTO_TEST_CASE(decimal_item_text_kept) {
  StoreUnderTest store;
  std::string body =
      ReplaceOnce(Fixture("daily"), R"("distance_meters": 9412.7)",
                  R"("distance_meters": 72.5)");
  (void)store.Apply(body, "t1");

  std::string text = RecordItemText(store.store(), "daily", "2026-07-01");
  BOOST_TEST(text.find(R"("distance_meters":72.5})") != std::string::npos,
             text);
  BOOST_TEST(
      text.find(R"("total_burned_calories":2450.8})") != std::string::npos,
      text);
  json::value item = RecordItem(store.store(), "daily", "2026-07-01");
  BOOST_TEST(item.at_pointer("/distance_data/distance_meters").is_double());
  BOOST_TEST(item.at_pointer("/distance_data/distance_meters").get_double() ==
             72.5);
}

BOOST_AUTO_TEST_CASE(decimal_score_overlay_text) {
  // The newer copy's null score lets the older 72.5 show through, so the
  // read overlays it and writes the item's text again.
  StoreUnderTest store;
  std::string older =
      ReplaceOnce(Fixture("daily"), R"("total_stress_score": 45)",
                  R"("total_stress_score": 72.5)");
  std::string newer = Edit(
      Fixture("daily"), "/data/0/data_enrichment/total_stress_score", nullptr);
  (void)store.Apply(older, "t1", kReceivedMs - 1000);
  (void)store.Apply(newer, "t2", kReceivedMs);

  std::string text = RecordItemText(store.store(), "daily", "2026-07-01");
  BOOST_TEST(text.find(R"("total_stress_score":72.5,)") != std::string::npos,
             text);
  BOOST_TEST(text.find(R"("distance_meters":9412.7})") != std::string::npos,
             text);
}

BOOST_AUTO_TEST_CASE(decimal_17_digits_text_kept) {
  // Boost.JSON 1.81's own parser reads this number one unit off, so its
  // text would come back as 95309792552509.52.
  StoreUnderTest store;
  std::string body =
      ReplaceOnce(Fixture("daily"), R"("distance_meters": 9412.7)",
                  R"("distance_meters": 95309792552509.53)");
  (void)store.Apply(body, "t1");

  std::string text = RecordItemText(store.store(), "daily", "2026-07-01");
  BOOST_TEST(
      text.find(R"("distance_meters":95309792552509.53})") != std::string::npos,
      text);
}

BOOST_AUTO_TEST_CASE(decimal_17_digits_overlay_text) {
  // The older score shows through the newer null one, so the read parses
  // both the stored item and the stored score and writes the item again.
  // The bodies are edited as text because json::serialize would write each
  // decimal in E-notation.
  StoreUnderTest store;
  std::string daily =
      ReplaceOnce(Fixture("daily"), R"("distance_meters": 9412.7)",
                  R"("distance_meters": 95309792552509.53)");
  std::string older = ReplaceOnce(daily, R"("total_stress_score": 45)",
                                  R"("total_stress_score": 91783194730597.73)");
  std::string newer = ReplaceOnce(daily, R"("total_stress_score": 45)",
                                  R"("total_stress_score": null)");
  (void)store.Apply(older, "t1", kReceivedMs - 1000);
  (void)store.Apply(newer, "t2", kReceivedMs);

  std::string text = RecordItemText(store.store(), "daily", "2026-07-01");
  BOOST_TEST(text.find(R"("total_stress_score":91783194730597.73,)") !=
                 std::string::npos,
             text);
  BOOST_TEST(
      text.find(R"("distance_meters":95309792552509.53})") != std::string::npos,
      text);
}

BOOST_AUTO_TEST_CASE(deep_item_overlay_reads) {
  // An item nested deeper than Boost.JSON's default limit of 32 was accepted
  // under the applier's limit of 64, so reading it back must accept it too.
  StoreUnderTest store(64);
  std::string deep = std::string(40, '[') + "1" + std::string(40, ']');
  std::string daily =
      ReplaceOnce(Fixture("daily"), R"("distance_meters": 9412.7)",
                  R"("distance_meters": )" + deep);
  std::string older = ReplaceOnce(daily, R"("total_stress_score": 45)",
                                  R"("total_stress_score": 46)");
  std::string newer = ReplaceOnce(daily, R"("total_stress_score": 45)",
                                  R"("total_stress_score": null)");
  AppliedDelivery first = store.Apply(older, "t1", kReceivedMs - 1000);
  AppliedDelivery second = store.Apply(newer, "t2", kReceivedMs);

  BOOST_TEST((first.outcome == Outcome::kStored), first.note);
  BOOST_TEST((second.outcome == Outcome::kStored), second.note);
  std::string text = RecordItemText(store.store(), "daily", "2026-07-01");
  BOOST_TEST(text.find(R"("total_stress_score":46,)") != std::string::npos,
             text);
  BOOST_TEST(text.find(deep) != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(very_deep_body_quarantined) {
  // The parser recurses once per level, so a body far deeper than the
  // largest accepted limit must stop at the limit, not at the stack's end.
  StoreUnderTest store(kMaxJsonDepth);
  std::string deep = std::string(300000, '[') + "1" + std::string(300000, ']');
  std::string body =
      ReplaceOnce(Fixture("daily"), R"("distance_meters": 9412.7)",
                  R"("distance_meters": )" + deep);

  AppliedDelivery applied = store.Apply(body, "t1");

  BOOST_TEST((applied.outcome == Outcome::kQuarantined));
  BOOST_TEST(applied.note.find("deeper than 1000") != std::string::npos,
             applied.note);
}

BOOST_AUTO_TEST_CASE(later_item_in_body_wins) {
  StoreUnderTest store;
  json::value body = json::parse(Fixture("daily"));
  json::array& data = body.at("data").as_array();
  data.push_back(data[0]);
  data[1].at_pointer("/distance_data/steps") = 7;
  AppliedDelivery applied = store.Apply(json::serialize(body), "t1");

  json::value item = RecordItem(store.store(), "daily", "2026-07-01");
  BOOST_TEST(applied.records == 2u);
  BOOST_TEST(item.at_pointer("/distance_data/steps").to_number<int>() == 7);
}

BOOST_AUTO_TEST_CASE(natural_ids_by_type) {
  StoreUnderTest store;
  for (std::string fixture : {"athlete", "planned_workout", "hormone",
                              "health_observation", "activity"}) {
    (void)store.Apply(Fixture(fixture), "t-" + fixture);
  }
  std::string user(kUserId);
  BOOST_TEST(RecordIds(store.store(), {.type = "athlete"}) ==
             user + "/athlete/profile@\n");
  BOOST_TEST(RecordIds(store.store(), {.type = "planned_workout"}) ==
             user + "/planned_workout/2048@2026-07-03\n");
  BOOST_TEST(RecordIds(store.store(), {.type = "hormone"}) ==
             user + "/hormone/2026-05-07T08:00:00+02:00@2026-05-07\n");
  BOOST_TEST(RecordIds(store.store(), {.type = "health_observation",
                                       .from_date = "2022-10-28"}) ==
             user +
                 "/health_observation/7C3A5D9E-1F42-4B5A-9C1D-2E8F0A6B4C3D@"
                 "2022-10-28\n");
  BOOST_TEST(RecordIds(store.store(), {.type = "activity"}) ==
             user +
                 "/activity/123e4567-e89b-12d3-a456-426614174000@2026-07-01\n");
}

BOOST_AUTO_TEST_CASE(activity_type_zero_kept) {
  StoreUnderTest store;
  std::string body =
      Edit(Fixture("activity"), "/data/0/metadata/type", json::value(0));
  (void)store.Apply(body, "t1");
  json::value item = RecordItem(store.store(), "activity",
                                "123e4567-e89b-12d3-a456-426614174000");
  BOOST_TEST(item.at_pointer("/metadata/type").to_number<int>() == 0);
}

BOOST_AUTO_TEST_CASE(empty_data_stored) {
  StoreUnderTest store;
  AppliedDelivery applied =
      store.Apply(Edit(Fixture("sleep"), "/data", json::array()), "t1");
  BOOST_TEST(OutcomeName(applied.outcome) == "stored");
  BOOST_TEST(applied.records == 0u);
  BOOST_TEST(RecordIds(store.store(), {}) == "");
}

BOOST_AUTO_TEST_CASE(item_without_id_quarantined) {
  StoreUnderTest store;
  json::value body = json::parse(Fixture("sleep"));
  json::array& data = body.at("data").as_array();
  data.push_back(data[0]);
  data[1].at("metadata").as_object().erase("summary_id");
  AppliedDelivery applied = store.Apply(json::serialize(body), "t1");

  BOOST_TEST(OutcomeName(applied.outcome) == "quarantined");
  BOOST_TEST(applied.note == "1 of 2 items lack metadata.summary_id");
  BOOST_TEST(applied.records == 1u);
  BOOST_TEST(!RecordIds(store.store(), {.type = "sleep"}).empty());
}

BOOST_AUTO_TEST_CASE(unusable_bodies_quarantined) {
  std::string too_deep = std::string(40, '[') + std::string(40, ']');
  const std::pair<std::string, std::string> kCases[] = {
      {"not json", "{\"type\": "},
      {"too deep", "{\"type\":\"daily\",\"x\":" + too_deep + "}"},
      {"array", "[1,2]"},
      {"no type", "{\"data\":[]}"},
      {"no user", Edit(Fixture("daily"), "/user", nullptr)},
      {"data not array", Edit(Fixture("daily"), "/data", json::object())},
      {"number out of range",
       R"({"type":"daily","user":{"user_id":"u1"},"data":[{"metadata":)"
       R"({"start_time":"2026-07-03T00:00:00+00:00"},"n":1e400}]})"},
  };
  for (const auto& [name, body] : kCases) {
    BOOST_TEST_CONTEXT(name) {
      StoreUnderTest store;
      AppliedDelivery applied = store.Apply(body, "t1");
      BOOST_TEST(OutcomeName(applied.outcome) == "quarantined");
      BOOST_TEST(!applied.note.empty());
      BOOST_TEST(Archived(store.store(), applied.sequence).body == body);
      BOOST_TEST(RecordIds(store.store(), {}) == "");

      AppliedDelivery again = store.ApplyOnly(body, "t1", kReceivedMs);
      BOOST_TEST(store.Commit(&again) == "duplicate");
    }
  }
}

BOOST_AUTO_TEST_CASE(too_deep_note_names_limit) {
  StoreUnderTest store;
  std::string body = std::string(40, '[') + std::string(40, ']');
  AppliedDelivery applied = store.Apply(body, "t1");
  BOOST_TEST(applied.note == "body nests deeper than 16 levels");
}

BOOST_AUTO_TEST_CASE(unknown_type_archived) {
  StoreUnderTest store;
  json::value event = json::parse(Fixture("unknown_event"));
  event.as_object()["user"] = json::parse(R"({"user_id":"u1"})");
  std::string body = json::serialize(event);
  AppliedDelivery applied = store.Apply(body, "t1");
  BOOST_TEST(OutcomeName(applied.outcome) == "archived");
  BOOST_TEST(RecordIds(store.store(), {}) == "");
  BOOST_TEST(ConnectionOf(store.store(), "u1") == "u1");
}

BOOST_AUTO_TEST_CASE(unknown_type_with_data) {
  StoreUnderTest store;
  std::string body = Edit(Fixture("daily"), "/type", json::value("glucose"));
  AppliedDelivery applied = store.Apply(body, "t1");
  BOOST_TEST(OutcomeName(applied.outcome) == "stored");
  BOOST_TEST(RecordIds(store.store(), {.type = "glucose"}) ==
             std::string(kUserId) + "/glucose/2026-07-01@2026-07-01\n");
}

BOOST_AUTO_TEST_CASE(same_trace_id_duplicate) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("daily"), "trace-1");
  AppliedDelivery again =
      store.ApplyOnly(Fixture("daily"), "trace-1", kReceivedMs);
  BOOST_TEST(store.Commit(&again) == "duplicate");
}

BOOST_AUTO_TEST_CASE(missing_trace_id_hashes_body) {
  StoreUnderTest store;
  AppliedDelivery first = store.Apply(Fixture("daily"), "");
  AppliedDelivery again = store.ApplyOnly(Fixture("daily"), "", kReceivedMs);
  AppliedDelivery other = store.ApplyOnly(Fixture("sleep"), "", kReceivedMs);

  BOOST_TEST(first.trace_id.starts_with("sha256:"));
  BOOST_TEST(first.trace_id.size() == 7u + 64u);
  BOOST_TEST(store.Commit(&again) == "duplicate");
  BOOST_TEST(store.Commit(&other) == "committed");
}

BOOST_AUTO_TEST_CASE(large_request_tracked) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("large_request_sending"), "t1");
  (void)store.Apply(Fixture("large_request_processing"), "t2");
  json::value tracking = json::parse(
      MetaValue(store.store(), std::string(kMetaLargeRequestPrefix) +
                                   "d3f1a9c2-6b1e-4f0a-8f21-9e5b2c7a4d10"));

  BOOST_TEST(tracking.at("expected_payloads").to_number<int>() == 43);
  BOOST_TEST(tracking.at("event").as_string() == "large_request_processing");
  BOOST_TEST(tracking.at("user_id").as_string() == kUserId);
}

BOOST_AUTO_TEST_CASE(healthcheck_time_kept) {
  StoreUnderTest store;
  (void)store.Apply(Fixture("healthcheck"), "t1");
  BOOST_TEST(MetaValue(store.store(), kMetaLastHealthcheck) ==
             std::to_string(kReceivedMs));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::store
