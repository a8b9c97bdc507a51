// Starting and stopping the real terra-syncd: command-line outcomes, exit
// codes for stores it must not open, and the unsynced commit mode.

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fixtures.h"

namespace terra::testing {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitStore = 3;
constexpr int kExitListen = 4;

// Runs terra-syncd with `args` to completion; returns its exit code and log.
std::pair<int, std::string> RunDaemon(const TempDir& dir,
                                      std::vector<std::string> args) {
  static int runs = 0;
  DaemonProcess daemon(std::move(args),
                       dir.Sub("run-" + std::to_string(++runs) + ".log"));
  int code = daemon.RunToExit();
  return {code, daemon.Log()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_lifecycle)

BOOST_AUTO_TEST_CASE(help_and_version) {
  TempDir dir;
  auto [help_code, help] = RunDaemon(dir, {"--help"});
  auto [version_code, version] = RunDaemon(dir, {"--version"});
  BOOST_TEST(help_code == 0);
  BOOST_TEST(help.find("--signing-secret-file") != std::string::npos);
  BOOST_TEST(version_code == 0);
  BOOST_TEST(version.find("terra-syncd ") == 0u);
}

BOOST_AUTO_TEST_CASE(invalid_configuration_exit_code) {
  TempDir dir;
  WriteFile(dir.Sub("secret"), "s");
  auto [code, log] = RunDaemon(dir, {"--store", dir.Sub("store"),
                                     "--signing-secret-file", dir.Sub("secret"),
                                     "--max-body-size", "lots"});
  BOOST_TEST(code == kExitUsage);
  BOOST_TEST(log.find("--max-body-size") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unusable_store_exit_code) {
  TempDir dir;
  WriteFile(dir.Sub("secret"), "s");
  WriteFile(dir.Sub("plain-file"), "not a directory");
  std::filesystem::create_directory(dir.Sub("other"));
  WriteFile(dir.Sub("other") + "/notes.txt", "someone else's data");

  struct Case {
    const char* name;
    std::string store;
    const char* expected;
  };
  const Case cases[] = {
      {"missing directory", dir.Sub("missing"), "does not exist"},
      {"plain file", dir.Sub("plain-file"), "plain-file"},
      {"foreign directory", dir.Sub("other"), "not a terra-sync store"},
  };
  for (const Case& test : cases) {
    auto [code, log] = RunDaemon(dir, {"--store", test.store, "--listen",
                                       "127.0.0.1:0", "--signing-secret-file",
                                       dir.Sub("secret")});
    BOOST_TEST_CONTEXT(test.name) {
      BOOST_TEST(code == kExitStore);
      BOOST_TEST(log.find(test.expected) != std::string::npos, "log: " << log);
    }
  }
  BOOST_TEST(ReadFile(dir.Sub("other") + "/notes.txt") == "someone else's data");
}

BOOST_AUTO_TEST_CASE(store_in_use_exit_code) {
  DaemonFixture running;
  auto [code, log] = RunDaemon(
      running.dir(), {"--store", running.store_path(), "--listen", "127.0.0.1:0",
                      "--signing-secret-file", running.dir().Sub("signing-secret")});
  BOOST_TEST(code == kExitStore);
  BOOST_TEST(log.find("in use") != std::string::npos, "log: " << log);
}

BOOST_AUTO_TEST_CASE(port_in_use_exit_code) {
  DaemonFixture running;
  std::filesystem::create_directory(running.dir().Sub("second-store"));
  auto [code, log] = RunDaemon(
      running.dir(),
      {"--store", running.dir().Sub("second-store"), "--listen",
       "127.0.0.1:" + std::to_string(running.port()), "--signing-secret-file",
       running.dir().Sub("signing-secret")});
  BOOST_TEST(code == kExitListen);
  BOOST_TEST(log.find("cannot listen") != std::string::npos, "log: " << log);
}

BOOST_AUTO_TEST_CASE(world_readable_secret_rejected) {
  TempDir dir;
  std::filesystem::create_directory(dir.Sub("store"));
  WriteFile(dir.Sub("secret"), "readable-by-all", 0644);
  auto [code, log] = RunDaemon(dir, {"--store", dir.Sub("store"),
                                     "--signing-secret-file", dir.Sub("secret")});
  BOOST_TEST(code == kExitUsage);
  BOOST_TEST(log.find("chmod 600") != std::string::npos);
  BOOST_TEST(log.find("readable-by-all") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unsynced_mode_stores) {
  DaemonFixture daemon({"--sync-writes", "false"});
  BOOST_TEST(daemon.Send(DailyBody(kUserA, "2026-04-01T00:00:00+00:00", 1), "u1")
                 .body == "stored\n");
  daemon.Restart();
  BOOST_TEST(daemon.Dump({"records"}).size() == 1u);
  BOOST_TEST(daemon.daemon().Log().find("unsynced") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
