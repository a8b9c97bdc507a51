// Stores the daemon must not open, and secrets it must not show. A
// corrupted store or one of a newer format stops the daemon with exit code 3
// and a message naming the problem, and its data stays as it was. The
// signing secret appears in no log line, metric, health response, rejection
// or dump line.

#include <rocksdb/db.h>

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "store/store.h"
#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fixtures.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kExitStore = 3;

// Contents of every file of a store except RocksDB's info logs (LOG,
// LOG.old.*), which every open attempt writes.
std::map<std::string, std::string> StoreFiles(const std::string& path) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("LOG", 0) == 0) continue;
    files[name] = ReadFile(entry.path().string());
  }
  return files;
}

std::string FindFile(const std::string& dir, const std::string& prefix) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) {
      return entry.path().string();
    }
  }
  return {};
}

// Runs the daemon over `store` to its exit; returns the exit code and log.
std::pair<int, std::string> RunOver(const DaemonFixture& fixture,
                                    const std::string& store,
                                    const std::string& name) {
  DaemonProcess daemon(
      {"--listen", "127.0.0.1:0", "--store", store, "--signing-secret-file",
       fixture.dir().Sub("signing-secret")},
      fixture.dir().Sub(name + ".log"));
  int code = daemon.RunToExit();
  return {code, daemon.Log()};
}

// Opens a store read-only with plain RocksDB, whatever its format version,
// and returns meta format_version and the number of archived deliveries.
std::pair<std::string, size_t> ReadRaw(const std::string& path) {
  std::vector<std::string> names;
  BOOST_REQUIRE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  BOOST_REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path,
                                             descriptors, &handles, &raw)
                    .ok());
  std::unique_ptr<rocksdb::DB> db(raw);

  std::string version;
  size_t deliveries = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == store::FamilyName(store::Family::kMeta)) {
      db->Get(rocksdb::ReadOptions(), handles[i],
              std::string(store::kMetaFormatVersion), &version)
          .PermitUncheckedError();
    }
    if (names[i] == store::FamilyName(store::Family::kDeliveries)) {
      std::unique_ptr<rocksdb::Iterator> it(
          db->NewIterator(rocksdb::ReadOptions(), handles[i]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++deliveries;
    }
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  return {version, deliveries};
}

// A stopped daemon's store with a few deliveries in it.
void Populate(DaemonFixture* daemon) {
  for (int i = 0; i < 3; ++i) {
    BOOST_REQUIRE(daemon
                      ->Send(DailyBody(kUserA,
                                       "2026-04-0" + std::to_string(i + 1) +
                                           "T00:00:00+00:00",
                                       i),
                             "fault-" + std::to_string(i))
                      .status == 200u);
  }
  BOOST_REQUIRE(daemon->daemon().Stop() == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_faults)

BOOST_AUTO_TEST_CASE(corrupted_store_exit_code) {
  DaemonFixture daemon;
  Populate(&daemon);

  struct Case {
    const char* name;
    std::function<void(const std::string& store)> corrupt;
  };
  const Case cases[] = {
      {"current names a missing manifest",
       [](const std::string& store) {
         WriteFile(store + "/CURRENT", "MANIFEST-999999\n", 0644);
       }},
      {"current is garbage",
       [](const std::string& store) {
         WriteFile(store + "/CURRENT", "\x01\x02garbage", 0644);
       }},
      {"manifest bytes flipped",
       [](const std::string& store) {
         std::string manifest = FindFile(store, "MANIFEST-");
         BOOST_REQUIRE(!manifest.empty());
         std::string bytes = ReadFile(manifest);
         for (size_t i = 8; i < bytes.size(); i += 7) bytes[i] ^= 0x5a;
         WriteFile(manifest, bytes, 0644);
       }},
  };
  int index = 0;
  for (const Case& test : cases) {
    std::string copy = daemon.dir().Sub("corrupt-" + std::to_string(index));
    fs::copy(daemon.store_path(), copy, fs::copy_options::recursive);
    test.corrupt(copy);
    std::map<std::string, std::string> before = StoreFiles(copy);

    auto [code, log] =
        RunOver(daemon, copy, "corrupt-" + std::to_string(index++));
    BOOST_TEST_CONTEXT(test.name) {
      BOOST_TEST(code == kExitStore, "log: " << log);
      BOOST_TEST(log.find(copy) != std::string::npos, "log: " << log);
      // Nothing was created over the existing data.
      BOOST_TEST((StoreFiles(copy) == before));
    }
  }
}

BOOST_AUTO_TEST_CASE(newer_format_exit_code) {
  DaemonFixture daemon;
  Populate(&daemon);
  {
    store::StoreOptions options;
    options.path = daemon.store_path();
    std::unique_ptr<store::Store> opened;
    BOOST_REQUIRE(store::Store::Open(options, &opened).ok());
    BOOST_REQUIRE(opened->db()
                      ->Put(rocksdb::WriteOptions(),
                            opened->handle(store::Family::kMeta),
                            std::string(store::kMetaFormatVersion),
                            std::to_string(store::kFormatVersion + 1))
                      .ok());
  }

  auto [code, log] = RunOver(daemon, daemon.store_path(), "newer");
  BOOST_TEST(code == kExitStore);
  std::string expected = "has format version " +
                         std::to_string(store::kFormatVersion + 1) +
                         ", this build reads up to";
  BOOST_TEST(log.find(expected) != std::string::npos, "log: " << log);

  // RocksDB's open rewrites its own files, but the data and the version
  // stay: nothing was re-created over them.
  auto [version, deliveries] = ReadRaw(daemon.store_path());
  BOOST_TEST(version == std::to_string(store::kFormatVersion + 1));
  BOOST_TEST(deliveries == 3u);
}

BOOST_AUTO_TEST_CASE(secret_absent_from_outputs) {
  DaemonFixture daemon;
  BOOST_REQUIRE(daemon.daemon().admin_port() != 0);
  const std::string& secret = daemon.secret();
  std::string body = ReadFixture("daily.json");
  int64_t now = NowSeconds();

  // Accepted, duplicate, quarantined and every kind of rejection.
  std::vector<HttpResult> results = {
      daemon.Send(body, "s1"),
      daemon.Send(body, "s1"),
      daemon.Send("not json", "s2"),
      daemon.SendWith({{"terra-signature", "garbage"}}, body),
      daemon.SendWith({{"terra-signature", "t=" + std::to_string(now) + ",v1=" +
                                               HmacHex("wrong", now, body)}},
                      body),
      daemon.SendWith(
          {{"terra-signature", "t=1,v1=" + HmacHex(secret, 1, body)}}, body),
      daemon.SendWith({}, body)};
  std::vector<std::string> outputs;
  for (const HttpResult& result : results) outputs.push_back(result.body);
  outputs.push_back(Get(daemon.daemon().admin_port(), "/metrics").body);
  outputs.push_back(Get(daemon.daemon().admin_port(), "/healthz").body);
  for (const char* selector :
       {"deliveries", "records", "connections", "jobs", "stats"}) {
    for (const auto& line : daemon.Dump({selector})) {
      outputs.push_back(boost::json::serialize(line));
    }
  }
  daemon.daemon().Signal(SIGHUP);  // a reload logs the configuration it read
  BOOST_TEST(daemon.daemon().WaitForLog("reload"));
  BOOST_TEST(daemon.daemon().Stop() == 0);
  outputs.push_back(daemon.daemon().Log());

  for (size_t i = 0; i < outputs.size(); ++i) {
    BOOST_TEST(outputs[i].find(secret) == std::string::npos,
               "output " << i << " shows the secret");
  }
  BOOST_TEST(outputs.size() > results.size() + 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
