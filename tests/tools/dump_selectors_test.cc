// `terra-syncctl dump` selectors and formats, run as the built binary against
// a store filled through DeliveryApplier, left open as a primary the way
// terra-syncd keeps it.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <signal.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/keys.h"
#include "store/store.h"
#include "tests/support/fixtures.h"
#include "tests/support/process.h"
#include "tests/tools/tool_support.h"

namespace terra {
namespace {

namespace json = boost::json;
using testing::JoinMember;
using testing::kDayMs;
using testing::kJuly1Ms;
using testing::ParseNdjson;
using testing::RunSyncctl;

// Five deliveries over two days: an auth, a daily and a sleep (with a
// terra-reference) on July 1, a body that is not JSON and a user_reauth on
// July 2.
class ArchiveStore {
 public:
  ArchiveStore() : store_(dir_.Sub("store")) {
    store_.Apply(testing::ReadFixture("auth_success.json"), "t1", kJuly1Ms);
    store_.Apply(testing::ReadFixture("daily.json"), "t2", kJuly1Ms + 1000);
    store_.Apply(testing::ReadFixture("sleep.json"), "t3", kJuly1Ms + 2000,
                 "ref-1");
    store_.Apply("not json, at all", "t4", kJuly1Ms + kDayMs);
    store_.Apply(testing::ReadFixture("user_reauth.json"), "t5",
                 kJuly1Ms + kDayMs + 1000);
  }

  testing::CommandResult Dump(std::vector<std::string> args) {
    args.insert(args.begin(), {"dump", "--store", store_.path()});
    return RunSyncctl(args, dir_);
  }

  // Trace ids of `dump deliveries` with `filters`, in output order.
  std::string TraceIds(const std::vector<std::string>& filters) {
    std::vector<std::string> args{"deliveries", "--format", "ndjson"};
    args.insert(args.end(), filters.begin(), filters.end());
    testing::CommandResult run = Dump(args);
    BOOST_REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    return JoinMember(ParseNdjson(run.out), "trace_id");
  }

  testing::AppliedStore& store() { return store_; }
  const testing::TempDir& dir() const { return dir_; }

 private:
  testing::TempDir dir_;
  testing::AppliedStore store_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dump_selectors)

BOOST_AUTO_TEST_CASE(deliveries_in_order) {
  ArchiveStore archive;
  BOOST_TEST(archive.TraceIds({}) == "t1 t2 t3 t4 t5");
}

BOOST_AUTO_TEST_CASE(deliveries_by_header) {
  ArchiveStore archive;
  BOOST_TEST(archive.TraceIds({"--trace-id", "t2"}) == "t2");
  BOOST_TEST(archive.TraceIds({"--trace-id", "absent"}) == "");
  BOOST_TEST(archive.TraceIds({"--reference", "ref-1"}) == "t3");
  BOOST_TEST(archive.TraceIds({"--event-type", "user_reauth"}) == "t5");
}

BOOST_AUTO_TEST_CASE(deliveries_by_outcome) {
  ArchiveStore archive;
  BOOST_TEST(archive.TraceIds({"--outcome", "quarantined"}) == "t4");
  BOOST_TEST(archive.TraceIds({"--outcome", "stored"}) == "t2 t3");
  BOOST_TEST(archive.TraceIds({"--outcome", "recorded"}) == "t1 t5");
}

BOOST_AUTO_TEST_CASE(deliveries_by_received_time) {
  ArchiveStore archive;
  BOOST_TEST(archive.TraceIds({"--from", "2026-07-02"}) == "t4 t5");
  BOOST_TEST(archive.TraceIds({"--to", "2026-07-01"}) == "t1 t2 t3");
  BOOST_TEST(archive.TraceIds({"--from", "2026-07-01T00:00:01Z", "--to",
                               "2026-07-01T00:00:01Z"}) == "t2");
  BOOST_TEST(archive.TraceIds({"--from", "2026-07-03"}) == "");
}

BOOST_AUTO_TEST_CASE(delivery_line_fields) {
  ArchiveStore archive;
  testing::CommandResult run =
      archive.Dump({"deliveries", "--trace-id", "t3", "--format", "ndjson"});
  std::vector<json::object> lines = ParseNdjson(run.out);
  BOOST_REQUIRE(lines.size() == 1u);
  const json::object& line = lines[0];

  BOOST_TEST(line.at("received_ms").to_number<int64_t>() == kJuly1Ms + 2000);
  BOOST_TEST(line.at("terra_reference").as_string() == "ref-1");
  BOOST_TEST(line.at("event_type").as_string() == "sleep");
  BOOST_TEST(line.at("outcome").as_string() == "stored");
  BOOST_TEST(line.at("records").to_number<int>() == 1);
  BOOST_TEST(line.at("body_encoding").as_string() == "utf-8");
  BOOST_TEST(line.at("body").as_string() == testing::ReadFixture("sleep.json"));
}

BOOST_AUTO_TEST_CASE(binary_body_base64) {
  ArchiveStore archive;
  archive.store().Apply(std::string("\xff\xfe\x00", 3), "t6", kJuly1Ms);
  testing::CommandResult run =
      archive.Dump({"deliveries", "--trace-id", "t6", "--format", "ndjson"});
  std::vector<json::object> lines = ParseNdjson(run.out);
  BOOST_REQUIRE(lines.size() == 1u);

  BOOST_TEST(lines[0].at("body_encoding").as_string() == "base64");
  BOOST_TEST(lines[0].at("body").as_string() == "//4A");
}

BOOST_AUTO_TEST_CASE(records_by_natural_id) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump(
      {"records", "--natural-id", "2026-07-01", "--format", "ndjson"});
  std::vector<json::object> records = ParseNdjson(run.out);
  BOOST_TEST(run.exit_code == 0);
  BOOST_TEST(JoinMember(records, "type") == "daily");
}

BOOST_AUTO_TEST_CASE(records_decimals_as_delivered) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump(
      {"records", "--natural-id", "2026-07-01", "--format", "ndjson"});
  BOOST_TEST(run.exit_code == 0);
  BOOST_TEST(run.out.find(R"("distance_meters":9412.7})") != std::string::npos,
             run.out);
  BOOST_TEST(
      run.out.find(R"("total_burned_calories":2450.8})") != std::string::npos,
      run.out);
}

BOOST_AUTO_TEST_CASE(jobs_listed) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump({"jobs", "--format", "ndjson"});
  std::vector<json::object> jobs = ParseNdjson(run.out);
  BOOST_TEST(run.exit_code == 0);
  BOOST_REQUIRE(jobs.size() == 1u);
  BOOST_TEST(jobs[0].at("kind").as_string() == "backfill");
  BOOST_TEST(jobs[0].at("state").as_string() == "queued");
  BOOST_TEST(jobs[0].at("job_id").to_number<uint64_t>() > 0u);
}

BOOST_AUTO_TEST_CASE(stats_counts) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump({"stats", "--format", "ndjson"});
  std::vector<json::object> lines = ParseNdjson(run.out);
  BOOST_REQUIRE(lines.size() == 1u);
  const json::object& stats = lines[0];

  BOOST_TEST(stats.at("format_version").to_number<int>() == 1);
  BOOST_TEST(json::serialize(stats.at("records")) ==
             R"({"daily":1,"sleep":1})");
  BOOST_TEST(json::serialize(stats.at("deliveries")) ==
             R"({"quarantined":1,"recorded":2,"stored":2})");
  BOOST_TEST(json::serialize(stats.at("connections")) == R"({"active":1})");
  BOOST_TEST(stats.at("size_on_disk_bytes").to_number<uint64_t>() > 0u);
}

BOOST_AUTO_TEST_CASE(stats_table_rows) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump({"stats", "--format", "csv"});
  std::vector<std::string> lines = Lines(run.out);
  BOOST_REQUIRE(!lines.empty());
  BOOST_TEST(lines[0] == "name,value\r");
  BOOST_TEST(run.out.find("records.daily,1\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(format_json_array) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump({"deliveries", "--format", "json"});
  json::value parsed = json::parse(run.out);
  BOOST_REQUIRE(parsed.is_array());
  BOOST_TEST(parsed.as_array().size() == 5u);
}

BOOST_AUTO_TEST_CASE(format_json_empty) {
  ArchiveStore archive;
  testing::CommandResult run =
      archive.Dump({"deliveries", "--trace-id", "absent", "--format", "json"});
  BOOST_TEST(run.out == "[]\n");
}

BOOST_AUTO_TEST_CASE(format_csv_records) {
  ArchiveStore archive;
  testing::CommandResult run =
      archive.Dump({"records", "--type", "daily", "--format", "csv"});
  std::vector<std::string> lines = Lines(run.out);
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0] ==
             "connection_id,type,natural_id,date,ordering_ms,sequence,source,"
             "delivery\r");
  BOOST_TEST(lines[1].starts_with(
      "40f7b0e1-89e2-43ac-a5b8-1e29c8d47cad,daily,2026-07-01,2026-07-01,"));
  BOOST_TEST(lines[1].find(",webhook,") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(format_csv_quotes) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump(
      {"deliveries", "--outcome", "quarantined", "--format", "csv"});
  std::vector<std::string> lines = Lines(run.out);
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0] ==
             "sequence,received_ms,trace_id,terra_reference,event_type,user_id,"
             "outcome,records,note\r");
  // The body is not a column; the note names the JSON error.
  BOOST_TEST(lines[1].find(",t4,,,,quarantined,0,") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(format_table_aligned) {
  ArchiveStore archive;
  testing::CommandResult run =
      archive.Dump({"connections", "--format", "table"});
  std::vector<std::string> lines = Lines(run.out);
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0].starts_with("connection_id "));
  BOOST_TEST(lines[0].find("state") == lines[1].find("active"));
  BOOST_TEST(lines[0].find("provider") == lines[1].find("GARMIN"));
}

BOOST_AUTO_TEST_CASE(impossible_time_fails) {
  ArchiveStore archive;
  testing::CommandResult run =
      archive.Dump({"deliveries", "--from", "2026-02-30T00:00:00Z"});
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.out.empty());
  BOOST_TEST(run.err ==
             "terra-syncctl dump: --from \"2026-02-30T00:00:00Z\" is not a "
             "valid date or time; use YYYY-MM-DD (a UTC day) or "
             "YYYY-MM-DDTHH:MM:SSZ\n");
}

BOOST_AUTO_TEST_CASE(table_cells_without_controls) {
  ArchiveStore archive;
  archive.store().Apply(testing::ReadFixture("daily.json"),
                        "t6\x1b]0;title\x07\x1b[31m\r", kJuly1Ms + 3000);

  testing::CommandResult run =
      archive.Dump({"deliveries", "--format", "table"});

  BOOST_TEST(run.exit_code == 0, run.err);
  BOOST_TEST(run.out.find("t6 ]0;title  [31m ") != std::string::npos, run.out);
  for (char c : run.out) {
    BOOST_TEST_REQUIRE((c == '\n' || static_cast<unsigned char>(c) >= 0x20));
  }
}

BOOST_AUTO_TEST_CASE(table_cut_between_characters) {
  // 30 two-byte characters: the 45-byte cut falls inside the 23rd.
  std::string trace_id;
  for (int i = 0; i < 30; ++i) trace_id += "\xc3\xa9";
  ArchiveStore archive;
  archive.store().Apply(testing::ReadFixture("daily.json"), trace_id,
                        kJuly1Ms + 3000);

  testing::CommandResult run =
      archive.Dump({"deliveries", "--format", "table"});

  std::string cut;
  for (int i = 0; i < 22; ++i) cut += "\xc3\xa9";
  BOOST_TEST(run.out.find(" " + cut + "...") != std::string::npos, run.out);
}

BOOST_AUTO_TEST_CASE(output_write_failure_fails) {
  ArchiveStore archive;
  for (std::string selector : {"records", "deliveries", "stats"}) {
    BOOST_TEST_CONTEXT(selector) {
      testing::CommandResult run = testing::RunCommand(
          {"/bin/sh", "-c", "exec \"$0\" \"$@\" >/dev/full", TERRA_SYNCCTL_PATH,
           "dump", "--store", archive.store().path(), selector},
          archive.dir().path().string());
      BOOST_TEST(run.exit_code == 1);
      BOOST_TEST(run.err.find("writing the output failed (No space left on "
                              "device)") != std::string::npos,
                 run.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(inapplicable_option_fails) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump({"records", "--outcome", "stored"});
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.err.find("apply to deliveries only") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_format_fails) {
  ArchiveStore archive;
  testing::CommandResult run = archive.Dump({"records", "--format", "xml"});
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.err.find("ndjson, json, csv or table") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_entries_counted) {
  ArchiveStore archive;
  size_t record_count =
      ParseNdjson(archive.Dump({"records", "--format", "ndjson"}).out).size();
  store::Store& store = archive.store().store();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  BOOST_REQUIRE(store.db()
                    ->Put(sync, store.handle(store::Family::kRecords),
                          store::RecordKey("conn-x", "daily", "2026-07-09"),
                          "not an envelope")
                    .ok());
  BOOST_REQUIRE(store.db()
                    ->Put(sync, store.handle(store::Family::kDeliveries),
                          store::EncodeSequenceKey(store.LastSequence() + 1),
                          "not a delivery")
                    .ok());
  BOOST_REQUIRE(store.db()
                    ->Put(sync, store.handle(store::Family::kJobs),
                          store::EncodeSequenceKey(store.LastSequence() + 2),
                          "[1,")
                    .ok());

  testing::CommandResult records =
      archive.Dump({"records", "--format", "ndjson"});
  testing::CommandResult deliveries =
      archive.Dump({"deliveries", "--format", "ndjson"});
  testing::CommandResult jobs = archive.Dump({"jobs", "--format", "ndjson"});
  testing::CommandResult connections =
      archive.Dump({"connections", "--format", "ndjson"});

  // Every other entry is still printed, and the last line counts the skips.
  BOOST_TEST(records.exit_code == 3, records.err);
  BOOST_TEST(ParseNdjson(records.out).size() == record_count);
  BOOST_TEST(Lines(records.err).back() ==
             "terra-syncctl dump: skipped 1 malformed entry: 1 record (value "
             "is not a record envelope)");
  BOOST_TEST(deliveries.exit_code == 3, deliveries.err);
  BOOST_TEST(JoinMember(ParseNdjson(deliveries.out), "trace_id") ==
             "t1 t2 t3 t4 t5");
  BOOST_TEST(Lines(deliveries.err).back() ==
             "terra-syncctl dump: skipped 1 malformed entry: 1 delivery "
             "(value is not an archived delivery)");
  BOOST_TEST(jobs.exit_code == 3, jobs.err);
  BOOST_TEST(ParseNdjson(jobs.out).size() == 1u);
  BOOST_TEST(Lines(jobs.err).back() ==
             "terra-syncctl dump: skipped 1 malformed entry: 1 job (value is "
             "not a JSON object)");
  BOOST_TEST(connections.exit_code == 0, connections.err);
  BOOST_TEST(connections.err.empty());
}

// Follows the deliveries of `archive`, which has a delivery key that is not
// a sequence, through several polls. Returns the follower's stderr.
std::string FollowWithBadKey(ArchiveStore* archive, bool with_watermark) {
  store::Store& store = archive->store().store();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  // Nine bytes: not a sequence, and it sorts after the last delivery, where
  // the follower keeps reading.
  BOOST_REQUIRE(store.db()
                    ->Put(sync, store.handle(store::Family::kDeliveries),
                          store::EncodeSequenceKey(store.LastSequence()) + "x",
                          "not a delivery")
                    .ok());
  if (!with_watermark) {
    BOOST_REQUIRE(store.db()
                      ->Delete(sync, store.handle(store::Family::kMeta),
                               store::kMetaDeliveryWatermark)
                      .ok());
  }
  std::filesystem::create_directory(archive->dir().Sub("tmp"));

  testing::PipedSyncctl run(
      {"dump", "--store", archive->store().path(), "deliveries", "--follow",
       "--poll-interval", "50", "--format", "ndjson"},
      archive->dir().Sub("tmp"), archive->dir().Sub("err"));
  for (int line = 0; line < 5; ++line) {
    BOOST_REQUIRE_MESSAGE(!run.ReadLine(std::chrono::seconds(10)).empty(),
                          "line " << line << ", with_watermark "
                                  << with_watermark << ": " << run.Errors());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  run.Signal(SIGINT);
  BOOST_TEST(run.Drain(std::chrono::seconds(10)));
  BOOST_TEST(run.Wait(std::chrono::seconds(10)) == 3);
  return run.Errors();
}

// Returns how often `line` occurs in `text`.
size_t Count(const std::string& text, const std::string& line) {
  size_t count = 0;
  for (size_t at = text.find(line); at != std::string::npos;
       at = text.find(line, at + 1)) {
    ++count;
  }
  return count;
}

BOOST_AUTO_TEST_CASE(follow_reports_bad_key_once) {
  std::string line = "skipped malformed delivery 0: key is not a sequence";
  for (bool with_watermark : {true, false}) {
    ArchiveStore archive;
    std::string err = FollowWithBadKey(&archive, with_watermark);
    BOOST_TEST(Count(err, line) == 1u,
               "with_watermark " << with_watermark << ": " << err);
  }
}

BOOST_AUTO_TEST_CASE(malformed_connection_skipped) {
  ArchiveStore archive;
  store::Store& store = archive.store().store();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  // "0-..." sorts before the real connection id, so the dump has to go on
  // past the malformed entry to print it.
  BOOST_REQUIRE(store.db()
                    ->Put(sync, store.handle(store::Family::kConnections),
                          "0-malformed", "not a connection")
                    .ok());

  testing::CommandResult connections =
      archive.Dump({"connections", "--format", "ndjson"});
  testing::CommandResult stats = archive.Dump({"stats", "--format", "ndjson"});

  BOOST_TEST(connections.exit_code == 3, connections.err);
  BOOST_TEST(JoinMember(ParseNdjson(connections.out), "state") == "active");
  BOOST_TEST(connections.err.find("skipped malformed connection 0-malformed") !=
             std::string::npos);
  BOOST_TEST(Lines(connections.err).back() ==
             "terra-syncctl dump: skipped 1 malformed entry: 1 connection "
             "(value is not a connection)");
  BOOST_TEST(stats.exit_code == 0, stats.err);
  std::vector<json::object> lines = ParseNdjson(stats.out);
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(json::serialize(lines[0].at("connections")) == R"({"active":1})");
  BOOST_TEST(lines[0].at("malformed").to_number<uint64_t>() == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_connection_outside_user) {
  ArchiveStore archive;
  store::Store& store = archive.store().store();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  BOOST_REQUIRE(store.db()
                    ->Put(sync, store.handle(store::Family::kConnections),
                          "0-malformed", "not a connection")
                    .ok());

  testing::CommandResult run = archive.Dump(
      {"connections", "--user", "40f7b0e1-89e2-43ac-a5b8-1e29c8d47cad",
       "--format", "ndjson"});

  BOOST_TEST(run.exit_code == 0, run.err);
  BOOST_TEST(run.err.empty());
  BOOST_TEST(ParseNdjson(run.out).size() == 1u);
}

BOOST_AUTO_TEST_CASE(newer_format_fails) {
  ArchiveStore archive;
  rocksdb::WriteBatch batch;
  BOOST_REQUIRE(batch
                    .Put(archive.store().store().handle(store::Family::kMeta),
                         std::string(store::kMetaFormatVersion), "2")
                    .ok());
  BOOST_REQUIRE(archive.store().store().Write(&batch, true).ok());
  archive.store().Close();

  testing::CommandResult run = archive.Dump({"stats"});
  BOOST_TEST(run.exit_code == 2);
  BOOST_TEST(run.err.find("format version 2") != std::string::npos);
  BOOST_TEST(run.err.find("upgrade terra-sync") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra
