// `terra-syncctl replay`: to a running daemon from a store's archive and from
// capture files, offline into a store, and its errors.
//
// "Equal" for a rebuilt store means the same connections and records after
// dropping what a rebuild renumbers or relabels: the `sequence` and
// `delivery` numbers of records and of connection history entries, and the
// record `source` (offline replay writes "replay"). Items, dates, ordering
// timestamps, states, user ids and history events must match exactly.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/support/fixtures.h"
#include "tests/tools/faulty_relay.h"
#include "tests/tools/tool_support.h"

namespace terra {
namespace {

namespace json = boost::json;
using testing::JoinMember;
using testing::kDayMs;
using testing::kJuly1Ms;
using testing::ParseNdjson;
using testing::RunSyncctl;

// A source store with an auth, data before and after a user_reauth, and a
// quarantined body.
class SourceStore {
 public:
  SourceStore() : store_(dir_.Sub("source")) {
    json::value new_daily = json::parse(testing::ReadFixture("daily.json"));
    new_daily.at_pointer("/user/user_id") =
        "9c8b7a65-4321-4fed-a0b9-87c6d5e4f321";
    new_daily.at_pointer("/data/0/metadata/start_time") =
        "2026-07-02T00:00:00.000000+01:00";
    store_.Apply(testing::ReadFixture("auth_success.json"), "t1", kJuly1Ms);
    store_.Apply(testing::ReadFixture("daily.json"), "t2", kJuly1Ms + 1000);
    store_.Apply(testing::ReadFixture("sleep.json"), "t3", kJuly1Ms + 2000);
    store_.Apply(testing::ReadFixture("user_reauth.json"), "t4",
                 kJuly1Ms + kDayMs);
    store_.Apply(json::serialize(new_daily), "t5", kJuly1Ms + kDayMs + 1000);
    store_.Apply("{\"broken\":", "t6", kJuly1Ms + kDayMs + 2000);
    store_.Close();
  }

  testing::CommandResult Run(const std::vector<std::string>& args) {
    return RunSyncctl(args, dir_);
  }

  // Prints `selector` of the store at `path` as NDJSON.
  std::string Dump(const std::string& path, const std::string& selector) {
    testing::CommandResult run =
        Run({"dump", "--store", path, selector, "--format", "ndjson"});
    BOOST_REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    return run.out;
  }

  // Writes the archive as a capture file and returns its path.
  std::string WriteCapture() {
    std::string path = dir_.Sub("capture.ndjson");
    testing::WriteFile(path, Dump(this->path(), "deliveries"));
    return path;
  }

  std::string path() const { return dir_.Sub("source"); }
  const testing::TempDir& dir() const { return dir_; }

 private:
  testing::TempDir dir_;
  testing::AppliedStore store_;
};

void Erase(json::object* object, std::initializer_list<const char*> names) {
  for (const char* name : names) object->erase(name);
}

// Renders records and connections without the fields a rebuild changes.
std::string Comparable(const std::string& ndjson) {
  std::string text;
  for (json::object object : ParseNdjson(ndjson)) {
    Erase(&object, {"sequence", "delivery", "source"});
    if (json::value* history = object.if_contains("history")) {
      for (json::value& event : history->as_array()) {
        Erase(&event.as_object(), {"sequence", "delivery"});
      }
    }
    text += json::serialize(object) + "\n";
  }
  return text;
}

// Renders records as "type/natural_id:ordering_ms:item" lines, which a
// replay through a daemon must reproduce.
std::string RecordContents(const std::string& ndjson) {
  std::string text;
  for (const json::object& record : ParseNdjson(ndjson)) {
    text += std::string(record.at("type").as_string()) + "/" +
            std::string(record.at("natural_id").as_string()) + ":" +
            json::serialize(record.at("ordering_ms")) + ":" +
            json::serialize(record.at("item")) + "\n";
  }
  return text;
}

// Lines of a capture file, each with its newline.
std::vector<std::string> CaptureLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(testing::ReadFile(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  return lines;
}

// An offline replay that reads its capture from a named pipe, so that the
// test decides how much it has read when a signal arrives.
class PipedReplayInto {
 public:
  PipedReplayInto(const SourceStore& source, const std::string& target)
      : fifo_(source.dir().Sub("capture.fifo")) {
    std::filesystem::create_directory(source.dir().Sub("tmp"));
    BOOST_REQUIRE(mkfifo(fifo_.c_str(), 0600) == 0);
    run_ = std::make_unique<testing::PipedSyncctl>(
        std::vector<std::string>{"replay", "--capture", fifo_, "--into",
                                 target},
        source.dir().Sub("tmp"), source.dir().Sub("replay.err"));
    // Blocks until the replay opens the pipe for reading.
    fd_ = open(fifo_.c_str(), O_WRONLY);
    BOOST_REQUIRE(fd_ >= 0);
  }

  ~PipedReplayInto() { CloseInput(); }

  void Write(const std::string& text) {
    BOOST_REQUIRE(write(fd_, text.data(), text.size()) ==
                  static_cast<ssize_t>(text.size()));
  }

  void CloseInput() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  testing::PipedSyncctl& run() { return *run_; }

 private:
  std::string fifo_;
  std::unique_ptr<testing::PipedSyncctl> run_;
  int fd_ = -1;
};

// Returns N from "stopped by signal S after N deliveries", or -1.
int StoppedAfter(const std::string& err) {
  std::string marker = " after ";
  size_t at = err.find("stopped by signal");
  if (at == std::string::npos) return -1;
  at = err.find(marker, at);
  return at == std::string::npos ? -1
                                 : std::stoi(err.substr(at + marker.size()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay)

BOOST_AUTO_TEST_CASE(into_sigint_flushes_what_it_applied) {
  SourceStore source;
  std::vector<std::string> lines = CaptureLines(source.WriteCapture());
  BOOST_REQUIRE(lines.size() == 6u);
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  PipedReplayInto replay(source, target);
  replay.Write(lines[0] + lines[1] + lines[2]);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  replay.run().Signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The replay checks for a signal before it applies the next line, so this
  // line is never applied.
  replay.Write(lines[3]);
  replay.CloseInput();
  int code = replay.run().Wait(std::chrono::seconds(30));

  std::string err = replay.run().Errors();
  BOOST_TEST(code == 128 + SIGINT, "exit code " << code << ", " << err);
  int applied = StoppedAfter(err);
  BOOST_TEST(applied >= 1, err);
  BOOST_TEST(applied <= 3, err);
  BOOST_TEST(ParseNdjson(source.Dump(target, "deliveries")).size() ==
             static_cast<size_t>(applied));
  testing::CommandResult rerun =
      source.Run({"replay", "--capture", source.dir().Sub("capture.ndjson"),
                  "--into", target});
  BOOST_TEST(rerun.exit_code == 0, rerun.err);
  BOOST_TEST(rerun.err.find(std::to_string(applied) + " duplicate") !=
                 std::string::npos,
             rerun.err);
  BOOST_TEST(Comparable(source.Dump(target, "records")) ==
             Comparable(source.Dump(source.path(), "records")));
}

BOOST_AUTO_TEST_CASE(into_second_sigint_ends_a_waiting_replay) {
  SourceStore source;
  std::vector<std::string> lines = CaptureLines(source.WriteCapture());
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  // The pipe stays open and silent, so the replay waits in a read and never
  // checks the flag that the first SIGINT sets.
  PipedReplayInto replay(source, target);
  replay.Write(lines[0]);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  replay.run().Signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  replay.run().Signal(SIGINT);

  BOOST_TEST(replay.run().Wait(std::chrono::seconds(30)) == -1);
}

BOOST_AUTO_TEST_CASE(into_killed_then_rerun_completes) {
  SourceStore source;
  std::vector<std::string> lines = CaptureLines(source.WriteCapture());
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  // Without a write-ahead log, a kill loses what was not flushed yet; the
  // store must still open, and a second run must apply the rest.
  PipedReplayInto replay(source, target);
  replay.Write(lines[0] + lines[1] + lines[2]);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  replay.run().Signal(SIGKILL);
  BOOST_TEST(replay.run().Wait(std::chrono::seconds(30)) == -1);
  replay.CloseInput();

  testing::CommandResult rerun =
      source.Run({"replay", "--capture", source.dir().Sub("capture.ndjson"),
                  "--into", target});
  BOOST_TEST(rerun.exit_code == 0, rerun.err);
  BOOST_TEST(ParseNdjson(source.Dump(target, "deliveries")).size() == 6u);
  BOOST_TEST(Comparable(source.Dump(target, "connections")) ==
             Comparable(source.Dump(source.path(), "connections")));
  BOOST_TEST(Comparable(source.Dump(target, "records")) ==
             Comparable(source.Dump(source.path(), "records")));
}

BOOST_AUTO_TEST_CASE(to_daemon_from_store) {
  SourceStore source;
  testing::RunningDaemon daemon(source.dir(), source.dir().Sub("target"));
  std::vector<std::string> args{
      "replay",     "--from-store",  source.path(),       "--to",
      daemon.url(), "--secret-file", daemon.secret_path()};

  testing::CommandResult first = source.Run(args);
  testing::CommandResult second = source.Run(args);

  BOOST_TEST(first.exit_code == 0, first.err);
  BOOST_TEST(first.err.find("replay: 6 applied (quarantined 1, recorded 2, "
                            "stored 3), 0 duplicate, 0 rejected, 0 failed") !=
                 std::string::npos,
             first.err);
  BOOST_TEST(second.exit_code == 0);
  BOOST_TEST(
      second.err.find("replay: 0 applied, 6 duplicate") != std::string::npos,
      second.err);
  BOOST_TEST(
      RecordContents(source.Dump(source.dir().Sub("target"), "records")) ==
      RecordContents(source.Dump(source.path(), "records")));
}

BOOST_AUTO_TEST_CASE(to_daemon_from_capture) {
  SourceStore source;
  std::string capture = source.WriteCapture();
  testing::RunningDaemon daemon(source.dir(), source.dir().Sub("target"));
  std::vector<std::string> args{"replay",
                                "--capture",
                                capture,
                                "--to",
                                daemon.url(),
                                "--secret-file",
                                daemon.secret_path(),
                                "--concurrency",
                                "2",
                                "--rate",
                                "200"};

  testing::CommandResult first = source.Run(args);
  testing::CommandResult second = source.Run(args);

  BOOST_TEST(first.exit_code == 0, first.err);
  BOOST_TEST(first.err.find("replay: 6 applied") != std::string::npos,
             first.err);
  BOOST_TEST(
      second.err.find("replay: 0 applied, 6 duplicate") != std::string::npos,
      second.err);
  BOOST_TEST(JoinMember(ParseNdjson(source.Dump(source.dir().Sub("target"),
                                                "deliveries")),
                        "trace_id")
                 .size() == std::string("t1 t2 t3 t4 t5 t6").size());
}

BOOST_AUTO_TEST_CASE(new_trace_ids_reapply) {
  SourceStore source;
  testing::RunningDaemon daemon(source.dir(), source.dir().Sub("target"));
  std::vector<std::string> args{
      "replay",     "--from-store",  source.path(),        "--to",
      daemon.url(), "--secret-file", daemon.secret_path(), "--concurrency",
      "1"};
  BOOST_REQUIRE(source.Run(args).exit_code == 0);

  args.push_back("--new-trace-ids");
  testing::CommandResult again = source.Run(args);
  std::vector<json::object> deliveries =
      ParseNdjson(source.Dump(source.dir().Sub("target"), "deliveries"));

  BOOST_TEST(again.exit_code == 0, again.err);
  BOOST_TEST(again.err.find("replay: 6 applied") != std::string::npos,
             again.err);
  BOOST_REQUIRE(deliveries.size() == 12u);
  BOOST_TEST(
      deliveries[6].at("trace_id").as_string().starts_with("t1:replay:"));
}

BOOST_AUTO_TEST_CASE(into_empty_store_equals_original) {
  SourceStore source;
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);
  std::vector<std::string> args{"replay", "--from-store", source.path(),
                                "--into", target};

  testing::CommandResult first = source.Run(args);
  testing::CommandResult second = source.Run(args);

  BOOST_TEST(first.exit_code == 0, first.err);
  BOOST_TEST(
      second.err.find("replay: 0 applied, 6 duplicate") != std::string::npos,
      second.err);
  BOOST_TEST(Comparable(source.Dump(target, "connections")) ==
             Comparable(source.Dump(source.path(), "connections")));
  BOOST_TEST(Comparable(source.Dump(target, "records")) ==
             Comparable(source.Dump(source.path(), "records")));
  BOOST_TEST(JoinMember(ParseNdjson(source.Dump(target, "records")),
                        "source") == "replay replay replay");
}

BOOST_AUTO_TEST_CASE(into_sets_write_buffer) {
  SourceStore source;
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--into", target,
                  "--write-buffer-mib", "3"});

  BOOST_TEST(run.exit_code == 0, run.err);
  // RocksDB writes the options it opened with into an OPTIONS file.
  std::string options;
  for (const auto& entry : std::filesystem::directory_iterator(target)) {
    if (entry.path().filename().string().starts_with("OPTIONS-")) {
      options += testing::ReadFile(entry.path().string());
    }
  }
  BOOST_TEST(options.find("write_buffer_size=3145728") != std::string::npos);
  BOOST_TEST(options.find("write_buffer_size=16777216") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(write_buffer_out_of_range) {
  SourceStore source;
  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--into",
                  source.dir().Sub("target"), "--write-buffer-mib", "0"});
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(
      run.err.find("--write-buffer-mib 0 is out of range") != std::string::npos,
      run.err);
}

BOOST_AUTO_TEST_CASE(into_locked_store_fails) {
  SourceStore source;
  testing::RunningDaemon daemon(source.dir(), source.dir().Sub("target"));
  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--into",
                  source.dir().Sub("target")});
  BOOST_TEST(run.exit_code == 2);
  BOOST_TEST(run.err.find("is locked by another process, most likely a "
                          "running terra-syncd") != std::string::npos,
             run.err);
  // RocksDB's own warning about the lock is a log line: stderr, not stdout.
  BOOST_TEST(run.out.empty(), run.out);
}

BOOST_AUTO_TEST_CASE(broken_line_stops) {
  SourceStore source;
  std::vector<std::string> lines;
  std::string capture = testing::ReadFile(source.WriteCapture());
  size_t second_line = capture.find('\n') + 1;
  testing::WriteFile(source.dir().Sub("broken.ndjson"),
                     capture.substr(0, second_line) + "{\"body\": 12}\n" +
                         capture.substr(second_line));
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  testing::CommandResult stop =
      source.Run({"replay", "--capture", source.dir().Sub("broken.ndjson"),
                  "--into", target});

  BOOST_TEST(stop.exit_code == 3);
  BOOST_TEST(stop.err.find("broken.ndjson line 2: field body is missing or not "
                           "a string; stopping") != std::string::npos,
             stop.err);
  BOOST_TEST(stop.err.find("replay: 1 applied") != std::string::npos, stop.err);
}

BOOST_AUTO_TEST_CASE(invalid_integers_rejected) {
  const std::tuple<std::string, std::string, std::string> kCases[] = {
      {"received_ms", "18446744073709551615",
       "field received_ms is 18446744073709551615, outside 0 to "
       "9223372036854775807"},
      {"received_ms", "\"12\"", "field received_ms is not an integer"},
      {"received_ms", "1.5", "field received_ms is not an integer"},
      {"records", "-1", "field records is -1, outside 0 to 4294967295"},
      {"records", "4294967297",
       "field records is 4294967297, outside 0 to 4294967295"},
      {"sequence", "-5", "field sequence is -5, outside 0 to"},
  };
  SourceStore source;
  std::string capture = testing::ReadFile(source.WriteCapture());
  std::string first = capture.substr(0, capture.find('\n'));
  for (const auto& [field, value, message] : kCases) {
    BOOST_TEST_CONTEXT(field << "=" << value) {
      std::string line = first;
      size_t at = line.find("\"" + field + "\":");
      BOOST_REQUIRE(at != std::string::npos);
      size_t start = at + field.size() + 3;
      line.replace(start, line.find(',', start) - start, value);
      testing::WriteFile(source.dir().Sub("odd.ndjson"), line + "\n");
      std::string target = source.dir().Sub("rebuilt");
      std::filesystem::remove_all(target);
      std::filesystem::create_directory(target);

      testing::CommandResult run =
          source.Run({"replay", "--capture", source.dir().Sub("odd.ndjson"),
                      "--into", target});

      BOOST_TEST(run.exit_code == 3);
      BOOST_TEST(
          run.err.find("odd.ndjson line 1: " + message) != std::string::npos,
          run.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(invalid_base64_rejected) {
  SourceStore source;
  std::string lines;
  for (std::string body : {"e===", "ab=c", "YWJj", "YQ=="}) {
    lines += R"({"body":")" + body +
             R"(","body_encoding":"base64"})"
             "\n";
  }
  testing::WriteFile(source.dir().Sub("b64.ndjson"), lines);

  testing::CommandResult run = source.Run(
      {"replay", "--capture", source.dir().Sub("b64.ndjson"), "--into",
       source.dir().Sub("unused"), "--on-invalid", "skip", "--dry-run"});

  BOOST_TEST(run.err.find("line 1: field body is not valid base64") !=
                 std::string::npos,
             run.err);
  BOOST_TEST(run.err.find("line 2: field body is not valid base64") !=
                 std::string::npos,
             run.err);
  BOOST_TEST(run.err.find("line 3:") == std::string::npos, run.err);
  BOOST_TEST(run.err.find("line 4:") == std::string::npos, run.err);
}

BOOST_AUTO_TEST_CASE(broken_line_skipped) {
  SourceStore source;
  std::string capture = testing::ReadFile(source.WriteCapture());
  testing::WriteFile(source.dir().Sub("broken.ndjson"), "not json\n" + capture);
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  testing::CommandResult skip =
      source.Run({"replay", "--capture", source.dir().Sub("broken.ndjson"),
                  "--into", target, "--on-invalid", "skip"});

  BOOST_TEST(skip.exit_code == 3);
  BOOST_TEST(skip.err.find("broken.ndjson line 1: not valid JSON") !=
                 std::string::npos,
             skip.err);
  BOOST_TEST(skip.err.find("replay: 6 applied") != std::string::npos, skip.err);
  BOOST_TEST(
      skip.err.find("1 invalid input (line or file)") != std::string::npos,
      skip.err);
}

BOOST_AUTO_TEST_CASE(bodies_directory) {
  SourceStore source;
  std::string bodies = source.dir().Sub("bodies");
  std::filesystem::create_directory(bodies);
  testing::WriteFile(bodies + "/1.json",
                     testing::ReadFixture("auth_success.json"));
  testing::WriteFile(bodies + "/2.json", testing::ReadFixture("daily.json"));
  testing::WriteFile(bodies + "/notes.txt", "ignored");
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  testing::CommandResult run =
      source.Run({"replay", "--bodies", bodies, "--into", target});

  BOOST_TEST(run.exit_code == 0, run.err);
  BOOST_TEST(run.err.find("replay: 2 applied (recorded 1, stored 1)") !=
                 std::string::npos,
             run.err);
  BOOST_TEST(JoinMember(ParseNdjson(source.Dump(target, "records")), "type") ==
             "daily");
}

BOOST_AUTO_TEST_CASE(dry_run_changes_nothing) {
  SourceStore source;
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);
  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--into", target,
                  "--dry-run", "--event-type", "daily"});

  BOOST_TEST(run.exit_code == 0, run.err);
  BOOST_TEST(run.out.starts_with("would apply t2 daily "));
  BOOST_TEST(run.out.find("would apply t5 daily ") != std::string::npos);
  BOOST_TEST(run.err.find("dry run, 2 deliveries would be replayed") !=
             std::string::npos);
  BOOST_TEST(std::filesystem::is_empty(target));
}

BOOST_AUTO_TEST_CASE(unreachable_daemon_fails) {
  SourceStore source;
  testing::WriteFile(source.dir().Sub("secret"), "s3cret\n");
  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--to",
                  "http://127.0.0.1:1/webhooks/terra", "--secret-file",
                  source.dir().Sub("secret")});
  BOOST_TEST(run.exit_code == 4);
  BOOST_TEST(run.err.find("cannot connect to 127.0.0.1:1") != std::string::npos,
             run.err);
  BOOST_TEST(run.err.find("check that terra-syncd is running") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(failed_requests_counted) {
  SourceStore source;
  testing::RunningDaemon daemon(source.dir(), source.dir().Sub("target"));
  testing::FaultyRelay relay(daemon.port(),
                             {{"t2", testing::RelayFault::kDrop},
                              {"t3", testing::RelayFault::kServerError},
                              {"t5", testing::RelayFault::kStall}});

  auto started = std::chrono::steady_clock::now();
  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--to", relay.url(),
                  "--secret-file", daemon.secret_path(), "--timeout", "1"});
  auto elapsed = std::chrono::steady_clock::now() - started;

  // The replay goes on after each failure and counts it with its reason.
  // The 1 s --timeout ends the stalled request, which the relay would
  // otherwise leave open for 20 s.
  BOOST_TEST(run.exit_code == 3, run.err);
  BOOST_TEST(elapsed < std::chrono::seconds(10));
  BOOST_TEST(
      run.err.find("replay: 3 applied (quarantined 1, recorded 2), 0 "
                   "duplicate, 0 rejected, 3 failed") != std::string::npos,
      run.err);
  BOOST_TEST(
      run.err.find("1 failed: HTTP 500: injected failure") != std::string::npos,
      run.err);
  BOOST_TEST(run.err.find("delivery t2 failed: request to 127.0.0.1") !=
                 std::string::npos,
             run.err);
  BOOST_TEST(run.err.find("delivery t5 failed: request to 127.0.0.1") !=
                 std::string::npos,
             run.err);
  BOOST_TEST(run.err.find("check that terra-syncd is running") ==
             std::string::npos);
  BOOST_TEST(JoinMember(ParseNdjson(source.Dump(source.dir().Sub("target"),
                                                "deliveries")),
                        "trace_id") == "t1 t4 t6");
}

BOOST_AUTO_TEST_CASE(wrong_secret_stops) {
  SourceStore source;
  testing::RunningDaemon daemon(source.dir(), source.dir().Sub("target"));
  testing::WriteFile(source.dir().Sub("wrong-secret"), "not the secret\n");
  std::filesystem::permissions(
      source.dir().Sub("wrong-secret"),
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--to", daemon.url(),
                  "--secret-file", source.dir().Sub("wrong-secret")});

  // The first 401 stops the replay instead of sending every delivery.
  BOOST_TEST(run.exit_code == 1, run.err);
  BOOST_TEST(run.err.find("the daemon rejected the signature (HTTP 401: "
                          "signature does not match: check the signing "
                          "secret); stopping") != std::string::npos,
             run.err);
  BOOST_TEST(run.err.find("replay: 0 applied, 0 duplicate, 1 rejected") !=
                 std::string::npos,
             run.err);
  BOOST_TEST(ParseNdjson(source.Dump(source.dir().Sub("target"), "deliveries"))
                 .empty());
}

BOOST_AUTO_TEST_CASE(unreadable_secret_fails) {
  SourceStore source;
  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--to",
                  "http://127.0.0.1:1/webhooks/terra", "--secret-file",
                  source.dir().Sub("absent")});
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.err.find(source.dir().Sub("absent")) != std::string::npos,
             run.err);
}

BOOST_AUTO_TEST_CASE(https_url_rejected) {
  SourceStore source;
  testing::CommandResult run =
      source.Run({"replay", "--from-store", source.path(), "--to",
                  "https://127.0.0.1/", "--dry-run"});
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.err.find("is not an http:// URL") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(capture_with_raw_bytes_replays) {
  // dump deliveries copies a trace id that is not UTF-8 as it is.
  SourceStore source;
  std::string capture = testing::ReadFile(source.WriteCapture());
  size_t at = capture.find("\"trace_id\":\"t2\"");
  BOOST_REQUIRE(at != std::string::npos);
  capture.replace(at, 15, "\"trace_id\":\"t2-\xe9\"");
  testing::WriteFile(source.dir().Sub("raw.ndjson"), capture);
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  testing::CommandResult run =
      source.Run({"replay", "--capture", source.dir().Sub("raw.ndjson"),
                  "--into", target});

  BOOST_TEST(run.exit_code == 0, run.err);
  BOOST_TEST(run.err.find("replay: 6 applied") != std::string::npos, run.err);
}

BOOST_AUTO_TEST_CASE(into_caps_ordering_time) {
  // A capture line whose ordering time was edited past its signed time.
  SourceStore source;
  std::string capture = testing::ReadFile(source.WriteCapture());
  std::vector<std::string> lines;
  std::istringstream in(capture);
  for (std::string line; std::getline(in, line);) {
    json::object object = json::parse(line).as_object();
    if (object.at("trace_id") == "t2") {
      object["ordering_ms"] = 4102444800000;  // 2100-01-01
      object["ordering_header_ms"] = 4102444800000;
      lines.push_back(json::serialize(object));
    }
  }
  BOOST_REQUIRE(lines.size() == 1u);
  json::object original = json::parse(lines[0]).as_object();
  testing::WriteFile(source.dir().Sub("edited.ndjson"), lines[0] + "\n");
  std::string target = source.dir().Sub("rebuilt");
  std::filesystem::create_directory(target);

  testing::CommandResult run =
      source.Run({"replay", "--capture", source.dir().Sub("edited.ndjson"),
                  "--into", target});

  BOOST_TEST(run.exit_code == 0, run.err);
  std::vector<json::object> records =
      ParseNdjson(source.Dump(target, "records"));
  BOOST_REQUIRE(records.size() == 1u);
  BOOST_TEST(records[0].at("ordering_ms").as_int64() ==
             original.at("signed_at_s").as_int64() * 1000);
}

// Replays one capture line of trace id t2 (a daily), edited by `edit`, with
// --into and with --to, and returns the ordering_ms of the record each
// produced.
std::pair<int64_t, int64_t> OrderingIntoAndTo(
    const std::function<void(json::object*)>& edit) {
  SourceStore source;
  std::string line;
  for (const std::string& text : CaptureLines(source.WriteCapture())) {
    json::object object = json::parse(text).as_object();
    if (object.at("trace_id") != "t2") continue;
    edit(&object);
    line = json::serialize(object) + "\n";
  }
  BOOST_REQUIRE(!line.empty());
  testing::WriteFile(source.dir().Sub("edited.ndjson"), line);
  std::string into = source.dir().Sub("into");
  std::filesystem::create_directory(into);
  testing::RunningDaemon daemon(source.dir(), source.dir().Sub("to"));

  testing::CommandResult offline =
      source.Run({"replay", "--capture", source.dir().Sub("edited.ndjson"),
                  "--into", into});
  testing::CommandResult sent =
      source.Run({"replay", "--capture", source.dir().Sub("edited.ndjson"),
                  "--to", daemon.url(), "--secret-file", daemon.secret_path()});

  BOOST_REQUIRE_MESSAGE(offline.exit_code == 0, offline.err);
  BOOST_REQUIRE_MESSAGE(sent.exit_code == 0, sent.err);
  std::vector<json::object> a = ParseNdjson(source.Dump(into, "records"));
  std::vector<json::object> b =
      ParseNdjson(source.Dump(source.dir().Sub("to"), "records"));
  BOOST_REQUIRE(a.size() == 1u);
  BOOST_REQUIRE(b.size() == 1u);
  return {a[0].at("ordering_ms").as_int64(), b[0].at("ordering_ms").as_int64()};
}

BOOST_AUTO_TEST_CASE(into_and_to_order_alike) {
  // Only the ordering header: both cap it at the signed time.
  auto [header_into, header_to] = OrderingIntoAndTo([](json::object* line) {
    line->erase("ordering_ms");
    (*line)["ordering_header_ms"] = kJuly1Ms + 5;
  });
  BOOST_TEST(header_into == kJuly1Ms + 5);
  BOOST_TEST(header_to == kJuly1Ms + 5);

  // REST data: no signature, its recorded ordering time.
  auto [rest_into, rest_to] = OrderingIntoAndTo([](json::object* line) {
    line->erase("ordering_header_ms");
    (*line)["signed_at_s"] = 0;
    (*line)["ordering_ms"] = kJuly1Ms + 7;
  });
  BOOST_TEST(rest_into == kJuly1Ms + 7);
  BOOST_TEST(rest_to == kJuly1Ms + 7);
}

BOOST_AUTO_TEST_CASE(invalid_options_rejected) {
  const std::pair<std::vector<std::string>, std::string> kCases[] = {
      {{"--concurrency", "100000"}, "--concurrency 100000 is out of range"},
      {{"--rate", "nan"}, "--rate must be 0 (no limit)"},
      {{"--rate", "inf"}, "--rate must be 0 (no limit)"},
      {{"--rate", "1e-300"}, "--rate must be 0 (no limit)"},
      {{"--timeout", "0"}, "--timeout must be at least 1 second"},
  };
  SourceStore source;
  for (const auto& [options, message] : kCases) {
    BOOST_TEST_CONTEXT(options[0] << " " << options[1]) {
      std::vector<std::string> args{
          "replay",      "--from-store",        source.path(),
          "--to",        "http://127.0.0.1:9/", "--secret-file",
          "/nonexistent"};
      args.insert(args.end(), options.begin(), options.end());
      testing::CommandResult run = source.Run(args);
      BOOST_TEST(run.exit_code == 1);
      BOOST_TEST(run.err.find(message) != std::string::npos, run.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(invalid_filters_named) {
  const std::pair<std::vector<std::string>, std::string> kCases[] = {
      {{"--received-from", "2026-02-30"},
       "--received-from \"2026-02-30\" is not a valid date or time"},
      {{"--received-to", "soon"},
       "--received-to \"soon\" is not a valid date or time"},
      {{"--outcome", "lost"}, "--outcome \"lost\" is not an outcome"},
  };
  SourceStore source;
  for (const auto& [options, message] : kCases) {
    BOOST_TEST_CONTEXT(options[0]) {
      std::vector<std::string> args{"replay",
                                    "--from-store",
                                    source.path(),
                                    "--into",
                                    source.dir().Sub("unused"),
                                    "--dry-run"};
      args.insert(args.end(), options.begin(), options.end());
      testing::CommandResult run = source.Run(args);
      BOOST_TEST(run.exit_code == 1);
      BOOST_TEST(run.err.find(message) != std::string::npos, run.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(invalid_port_rejected) {
  SourceStore source;
  for (std::string url : {"http://127.0.0.1:99999/", "http://127.0.0.1:/"}) {
    BOOST_TEST_CONTEXT(url) {
      testing::CommandResult run = source.Run(
          {"replay", "--from-store", source.path(), "--to", url, "--dry-run"});
      BOOST_TEST(run.exit_code == 1);
      BOOST_TEST(run.err.find("has an invalid port") != std::string::npos,
                 run.err);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra
