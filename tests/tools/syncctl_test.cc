// Runs the built terra-syncctl binary against a store populated through
// DeliveryApplier and a Committer, with the store still open as a primary,
// the way it is while terra-syncd runs.

#include <sys/wait.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/signature.h"
#include "store/committer.h"
#include "store/delivery_applier.h"
#include "store/store.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

namespace terra {
namespace {

namespace json = boost::json;

constexpr std::string_view kUserId = "40f7b0e1-89e2-43ac-a5b8-1e29c8d47cad";
constexpr std::string_view kNewUserId = "9c8b7a65-4321-4fed-a0b9-87c6d5e4f321";
constexpr int64_t kReceivedMs = 1'782'900'000'000;
constexpr auto kCommitTimeout = std::chrono::seconds(10);
// Upper bound on one terra-syncctl run, enforced by coreutils `timeout`.
constexpr int kRunTimeoutSeconds = 30;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs terra-syncctl with `args` (each single-quoted, so none may contain a
// single quote) and captures its output.
RunResult RunSyncctl(const std::vector<std::string>& args,
                     const testing::TempDir& dir) {
  std::string err_path = dir.Sub("stderr.txt");
  std::string command = "timeout " + std::to_string(kRunTimeoutSeconds) + " '" +
                        std::string(TERRA_SYNCCTL_PATH) + "'";
  for (const std::string& arg : args) {
    command += " '" + arg + "'";
  }
  command += " 2>'" + err_path + "'";

  RunResult result;
  FILE* pipe = popen(command.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.out.append(buffer, read);
  }
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = testing::ReadFile(err_path);
  return result;
}

std::vector<json::object> ParseLines(const std::string& ndjson) {
  std::vector<json::object> objects;
  std::istringstream lines(ndjson);
  for (std::string line; std::getline(lines, line);) {
    objects.push_back(json::parse(line).as_object());
  }
  return objects;
}

// Renders record lines as "type/natural_id" joined by spaces.
std::string RecordIds(const std::string& ndjson) {
  std::string ids;
  for (const json::object& record : ParseLines(ndjson)) {
    ids += std::string(record.at("type").as_string()) + "/" +
           std::string(record.at("natural_id").as_string()) + " ";
  }
  return ids;
}

std::string Edit(const std::string& body, std::string_view pointer,
                 json::value value) {
  json::value parsed = json::parse(body);
  parsed.at_pointer(pointer) = std::move(value);
  return json::serialize(parsed);
}

// A store populated with an auth, a reauth and data for the old and the new
// user id, left open as a primary.
class PopulatedStore {
 public:
  PopulatedStore() {
    std::filesystem::create_directory(path());
    store::StoreOptions options;
    options.path = path();
    store::Status status = store::Store::Open(options, &store_);
    BOOST_REQUIRE_MESSAGE(status.ok(), status.message());
    committer_ = std::make_unique<store::Committer>(store_.get(),
                                                    store::CommitterOptions());

    std::string new_daily =
        Edit(Edit(testing::ReadFixture("daily.json"), "/user/user_id",
                  json::value(kNewUserId)),
             "/data/0/metadata/start_time",
             json::value("2026-07-02T00:00:00.000000+01:00"));
    Apply(testing::ReadFixture("auth_success.json"), "t1");
    Apply(testing::ReadFixture("daily.json"), "t2");
    Apply(testing::ReadFixture("sleep.json"), "t3");
    Apply(testing::ReadFixture("user_reauth.json"), "t4");
    Apply(new_daily, "t5");
  }

  ~PopulatedStore() { committer_->Stop(); }

  std::string path() const { return dir_.Sub("store"); }
  const testing::TempDir& dir() const { return dir_; }

  // Applies and commits `body`; fails the test unless it is committed.
  void Apply(const std::string& body, const std::string& trace_id) {
    store::Delivery delivery;
    delivery.received_ms = kReceivedMs;
    delivery.trace_id = trace_id;
    delivery.ordering_ms = kReceivedMs;
    delivery.body = body;
    store::AppliedDelivery applied;
    store::DeliveryApplier applier(store_.get(), store::ApplierOptions());
    BOOST_REQUIRE(applier.Apply(std::move(delivery), &applied).ok());

    std::promise<store::CommitResult> done;
    std::future<store::CommitResult> result = done.get_future();
    committer_->Submit(
        std::move(applied.request),
        [&done](const store::CommitResult& r) { done.set_value(r); });
    BOOST_REQUIRE(result.wait_for(kCommitTimeout) == std::future_status::ready);
    BOOST_REQUIRE(result.get().outcome ==
                  store::CommitResult::Outcome::kCommitted);
  }

 private:

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Committer> committer_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(syncctl_dump)

BOOST_AUTO_TEST_CASE(connections_listed) {
  PopulatedStore store;
  RunResult run =
      RunSyncctl({"dump", "--store", store.path(), "connections"}, store.dir());
  std::vector<json::object> connections = ParseLines(run.out);

  BOOST_TEST(run.exit_code == 0);
  BOOST_REQUIRE(connections.size() == 1u);
  BOOST_TEST(connections[0].at("connection_id").as_string() == kUserId);
  BOOST_TEST(connections[0].at("state").as_string() == "active");
}

BOOST_AUTO_TEST_CASE(records_by_old_and_new_user) {
  PopulatedStore store;
  std::string expected =
      "daily/2026-07-01 daily/2026-07-02 "
      "sleep/5f0c2a9e-7d41-4b8e-9a36-1c2d3e4f5a6b ";
  for (std::string_view user : {kUserId, kNewUserId}) {
    BOOST_TEST_CONTEXT(user) {
      RunResult run = RunSyncctl({"dump", "--store", store.path(), "records",
                                  "--user", std::string(user)},
                                 store.dir());
      BOOST_TEST(run.exit_code == 0);
      BOOST_TEST(RecordIds(run.out) == expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(records_by_reference_id) {
  PopulatedStore store;
  std::string other_daily =
      Edit(Edit(testing::ReadFixture("daily.json"), "/user/user_id",
                json::value("0d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5")),
           "/user/reference_id", json::value("other-app-user"));
  store.Apply(other_daily, "t6");
  auto dump = [&](const std::string& selector, const std::string& reference) {
    return RunSyncctl({"dump", "--store", store.path(), selector, "--format",
                       "ndjson", "--reference-id", reference},
                      store.dir());
  };

  RunResult own = dump("records", "your-user-123");
  RunResult other = dump("records", "other-app-user");
  RunResult unknown = dump("records", "nobody");
  RunResult connections = dump("connections", "other-app-user");

  BOOST_TEST(own.exit_code == 0, own.err);
  BOOST_TEST(RecordIds(own.out) ==
             "daily/2026-07-01 daily/2026-07-02 "
             "sleep/5f0c2a9e-7d41-4b8e-9a36-1c2d3e4f5a6b ");
  BOOST_TEST(other.exit_code == 0, other.err);
  BOOST_TEST(RecordIds(other.out) == "daily/2026-07-01 ");
  BOOST_TEST(unknown.exit_code == 0, unknown.err);
  BOOST_TEST(unknown.out == "");
  BOOST_TEST(connections.exit_code == 0, connections.err);
  std::vector<json::object> listed = ParseLines(connections.out);
  BOOST_REQUIRE(listed.size() == 1u);
  BOOST_TEST(listed[0].at("connection_id").as_string() ==
             "0d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5");
}

BOOST_AUTO_TEST_CASE(record_line_fields) {
  PopulatedStore store;
  RunResult run = RunSyncctl(
      {"dump", "--store", store.path(), "records", "--type", "sleep"},
      store.dir());
  std::vector<json::object> records = ParseLines(run.out);

  BOOST_REQUIRE(records.size() == 1u);
  const json::object& sleep = records[0];
  BOOST_TEST(sleep.at("connection_id").as_string() == kUserId);
  BOOST_TEST(sleep.at("date").as_string() == "2026-06-30");
  BOOST_TEST(sleep.at("ordering_ms").to_number<int64_t>() == kReceivedMs);
  BOOST_TEST(sleep.at("source").as_string() == "webhook");
  BOOST_TEST(sleep.at("sequence").to_number<uint64_t>() > 0u);
  BOOST_TEST(sleep.at("delivery").to_number<uint64_t>() > 0u);
  BOOST_TEST(sleep.at("item")
                 .at_pointer("/data_enrichment/sleep_score")
                 .to_number<int>() == 84);
}

BOOST_AUTO_TEST_CASE(records_by_date_range) {
  PopulatedStore store;
  RunResult from = RunSyncctl({"dump", "--store", store.path(), "records",
                               "--type", "daily", "--from", "2026-07-02"},
                              store.dir());
  RunResult to = RunSyncctl(
      {"dump", "--store", store.path(), "records", "--to", "2026-06-30"},
      store.dir());

  BOOST_TEST(RecordIds(from.out) == "daily/2026-07-02 ");
  BOOST_TEST(RecordIds(to.out) ==
             "sleep/5f0c2a9e-7d41-4b8e-9a36-1c2d3e4f5a6b ");
}

BOOST_AUTO_TEST_CASE(unknown_user_fails) {
  PopulatedStore store;
  RunResult run = RunSyncctl(
      {"dump", "--store", store.path(), "records", "--user", "nobody"},
      store.dir());
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.out == "");
  BOOST_TEST(run.err ==
             "terra-syncctl dump: user id nobody is not in the store\n");
}

BOOST_AUTO_TEST_CASE(invalid_date_fails) {
  PopulatedStore store;
  RunResult run = RunSyncctl(
      {"dump", "--store", store.path(), "records", "--from", "07/01/2026"},
      store.dir());
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.err.find("YYYY-MM-DD") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_store_fails) {
  testing::TempDir dir;
  RunResult run =
      RunSyncctl({"dump", "--store", dir.Sub("absent"), "connections"}, dir);
  BOOST_TEST(run.exit_code == 2);
  BOOST_TEST(run.err.find(dir.Sub("absent")) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(syncctl_sign)

BOOST_AUTO_TEST_CASE(signature_verifies) {
  testing::TempDir dir;
  std::string body = testing::ReadFixture("sleep.json");
  testing::WriteFile(dir.Sub("secret"), "s3cret\n");
  testing::WriteFile(dir.Sub("body.json"), body);
  RunResult run =
      RunSyncctl({"sign", "--secret-file", dir.Sub("secret"), "--timestamp",
                  "1782900000", dir.Sub("body.json")},
                 dir);
  BOOST_REQUIRE(run.exit_code == 0);
  BOOST_REQUIRE(run.out.ends_with("\n"));
  std::string header = run.out.substr(0, run.out.size() - 1);
  int64_t signed_at_s = 0;

  BOOST_TEST(header.starts_with("t=1782900000,v1="));
  BOOST_TEST(run.out.find("s3cret") == std::string::npos);
  BOOST_TEST(daemon::SignatureErrorName(daemon::VerifySignature(
                 header, body, {"s3cret"}, 1782900000, 300, &signed_at_s)) ==
             daemon::SignatureErrorName(daemon::SignatureError::kNone));
  BOOST_TEST(signed_at_s == 1782900000);
  BOOST_TEST(daemon::SignatureErrorName(daemon::VerifySignature(
                 header, body, {"other"}, 1782900000, 300, &signed_at_s)) ==
             daemon::SignatureErrorName(daemon::SignatureError::kMismatch));
}

BOOST_AUTO_TEST_CASE(default_timestamp_is_now) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("secret"), "s3cret");
  testing::WriteFile(dir.Sub("body.json"), "{}");
  RunResult run = RunSyncctl(
      {"sign", "--secret-file", dir.Sub("secret"), dir.Sub("body.json")}, dir);
  BOOST_REQUIRE(run.exit_code == 0);
  std::string header = run.out.substr(0, run.out.size() - 1);
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  int64_t signed_at_s = 0;

  BOOST_TEST(daemon::SignatureErrorName(daemon::VerifySignature(
                 header, "{}", {"s3cret"}, now_s, 60, &signed_at_s)) ==
             daemon::SignatureErrorName(daemon::SignatureError::kNone));
}

BOOST_AUTO_TEST_CASE(world_readable_secret_hint) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("secret"), "s3cret");
  testing::WriteFile(dir.Sub("body.json"), "{}");
  std::filesystem::permissions(dir.Sub("secret"),
                               std::filesystem::perms::owner_read |
                                   std::filesystem::perms::owner_write |
                                   std::filesystem::perms::group_read |
                                   std::filesystem::perms::others_read);

  RunResult rejected = RunSyncctl(
      {"sign", "--secret-file", dir.Sub("secret"), dir.Sub("body.json")}, dir);
  RunResult allowed =
      RunSyncctl({"sign", "--secret-file", dir.Sub("secret"),
                  "--allow-world-readable-secrets", dir.Sub("body.json")},
                 dir);

  // The option that the message names is the one terra-syncctl takes.
  BOOST_TEST(rejected.exit_code == 1);
  BOOST_TEST(rejected.err.find("--allow-world-readable-secrets") !=
                 std::string::npos,
             rejected.err);
  BOOST_TEST(allowed.exit_code == 0, allowed.err);
}

BOOST_AUTO_TEST_CASE(directories_rejected) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("secret"), "s3cret");
  testing::WriteFile(dir.Sub("body.json"), "{}");
  std::filesystem::create_directory(dir.Sub("folder"));

  RunResult body = RunSyncctl(
      {"sign", "--secret-file", dir.Sub("secret"), dir.Sub("folder")}, dir);
  RunResult secret = RunSyncctl(
      {"sign", "--secret-file", dir.Sub("folder"), dir.Sub("body.json")}, dir);

  BOOST_TEST(body.exit_code == 1);
  BOOST_TEST(body.out == "");
  BOOST_TEST(body.err.find("cannot read body file") != std::string::npos,
             body.err);
  BOOST_TEST(secret.exit_code == 1);
  BOOST_TEST(secret.err.find("is a directory") != std::string::npos,
             secret.err);
}

BOOST_AUTO_TEST_CASE(missing_body_file_named) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("secret"), "s3cret");
  RunResult run = RunSyncctl({"sign", "--secret-file", dir.Sub("secret")}, dir);
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.err.find("name the BODY_FILE to sign") != std::string::npos,
             run.err);
  BOOST_TEST(run.err.find("--body-file") == std::string::npos, run.err);
}

BOOST_AUTO_TEST_CASE(missing_secret_file_fails) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("body.json"), "{}");
  RunResult run = RunSyncctl(
      {"sign", "--secret-file", dir.Sub("absent"), dir.Sub("body.json")}, dir);
  BOOST_TEST(run.exit_code == 1);
  BOOST_TEST(run.out == "");
  BOOST_TEST(run.err.find(dir.Sub("absent")) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra
