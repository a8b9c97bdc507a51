// Command-line and configuration-file parsing of terra-syncd.

#include "daemon/config.h"

#include <boost/test/unit_test.hpp>
#include <vector>

#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

namespace terra::daemon {
namespace {

using terra::testing::TempDir;
using terra::testing::WriteFile;

struct Parsed {
  ParseOutcome outcome;
  Config config;
  std::string error;
};

Parsed Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "terra-syncd");
  std::vector<const char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(arg.c_str());
  }
  Parsed parsed;
  parsed.outcome = ParseCommandLine(static_cast<int>(argv.size()), argv.data(),
                                    &parsed.config, &parsed.error);
  return parsed;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(endpoint_forms) {
  Endpoint endpoint;
  BOOST_REQUIRE(ParseEndpoint("127.0.0.1:8080", &endpoint));
  BOOST_TEST(endpoint.address == "127.0.0.1");
  BOOST_TEST(endpoint.port == 8080);
  BOOST_REQUIRE(ParseEndpoint("[::1]:0", &endpoint));
  BOOST_TEST(endpoint.address == "::1");
  BOOST_TEST(!ParseEndpoint("::1:80", &endpoint));
  BOOST_TEST(!ParseEndpoint("127.0.0.1", &endpoint));
  BOOST_TEST(!ParseEndpoint("127.0.0.1:65536", &endpoint));
  BOOST_TEST(!ParseEndpoint("127.0.0.1:", &endpoint));
  BOOST_TEST(!ParseEndpoint("localhost:80", &endpoint));
}

BOOST_AUTO_TEST_CASE(file_values_and_command_line_override) {
  TempDir dir;
  WriteFile(dir.Sub("secret"), "s3cret\n");
  WriteFile(dir.Sub("second"), "other");
  WriteFile(dir.Sub("conf"),
            "store = /tmp/x\n"
            "signing-secret-file = " + dir.Sub("secret") + "\n"
            "signing-secret-file = " + dir.Sub("second") + "\n"
            "max-body-size = 1m\n"
            "read-timeout = 250ms\n"
            "request-timeout = 2m\n"
            "listen = 127.0.0.1:9000\n");

  Parsed parsed = Parse({"--config", dir.Sub("conf"), "--listen", "[::1]:9001"});

  BOOST_REQUIRE_MESSAGE(parsed.outcome == ParseOutcome::kRun, parsed.error);
  BOOST_TEST(parsed.config.store_path == "/tmp/x");
  BOOST_TEST(parsed.config.listen.address == "::1");
  BOOST_TEST(parsed.config.listen.port == 9001);
  BOOST_TEST(parsed.config.limits.max_body_bytes == size_t{1} << 20);
  BOOST_TEST(parsed.config.limits.read_timeout.count() == 250);
  BOOST_TEST(parsed.config.limits.request_timeout.count() == 120000);
  BOOST_REQUIRE_EQUAL(parsed.config.signing_secrets.size(), 2u);
  BOOST_TEST(parsed.config.signing_secrets[0] == "s3cret");
  BOOST_TEST(parsed.config.signing_secrets[1] == "other");
}

BOOST_AUTO_TEST_CASE(invalid_values_name_the_option) {
  TempDir dir;
  WriteFile(dir.Sub("secret"), "s3cret");
  std::vector<std::string> base{"--store", "/tmp/x", "--signing-secret-file",
                                dir.Sub("secret")};
  struct Case {
    std::vector<std::string> extra;
    const char* expected;
  };
  const Case cases[] = {
      {{"--max-body-size", "12Q"}, "--max-body-size"},
      {{"--read-timeout", "soon"}, "--read-timeout"},
      {{"--listen", "localhost"}, "--listen"},
      {{"--webhook-path", "hooks"}, "--webhook-path"},
      {{"--max-inflight-body-size", "1K"}, "--max-inflight-body-size"},
      {{"--no-such-option", "1"}, "no-such-option"},
      {{"--listen", "localhost:8080"}, "numeric"},
      {{"--max-header-size", "4G"}, "--max-header-size"},
      {{"--idle-timeout", "0"}, "--idle-timeout"},
      {{"--read-timeout", "0ms"}, "--read-timeout"},
      {{"--request-timeout", "later"}, "--request-timeout"},
      {{"--request-timeout", "50ms"}, "--request-timeout"},
      {{"--max-connections", "-1"}, "--max-connections"},
      {{"--admin-listen", "nowhere"}, "--admin-listen"},
      {{"--delivery-retention-days", "-1"}, "--delivery-retention-days -1"},
      {{"--job-retention-days", "-2"}, "--job-retention-days -2"},
      {{"--json-max-depth", "-1"}, "--json-max-depth"},
      {{"--json-max-depth", "1001"}, "--json-max-depth 1001"},
      {{"--json-max-depth", "7"}, "--json-max-depth 7"},
      {{"--backfill-days", "0"}, "--backfill-days 0"},
      {{"--delivery-retention-days", "36501"}, "--delivery-retention-days"},
  };
  for (const Case& test : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), test.extra.begin(), test.extra.end());
    Parsed parsed = Parse(args);
    BOOST_TEST_CONTEXT(test.expected) {
      BOOST_TEST((parsed.outcome == ParseOutcome::kExitUsage));
      BOOST_TEST(parsed.error.find(test.expected) != std::string::npos,
                 "error: " << parsed.error);
    }
  }
}

BOOST_AUTO_TEST_CASE(delivery_retention_days) {
  TempDir dir;
  WriteFile(dir.Sub("secret"), "s3cret");
  std::vector<std::string> base{"--store", "/tmp/x", "--signing-secret-file",
                                dir.Sub("secret")};
  Parsed defaults = Parse(base);
  base.insert(base.end(), {"--delivery-retention-days", "0"});
  Parsed keep_all = Parse(base);

  BOOST_REQUIRE_MESSAGE(defaults.outcome == ParseOutcome::kRun, defaults.error);
  BOOST_TEST(defaults.config.delivery_retention_days == 30);
  BOOST_TEST(defaults.config.job_retention_days == 30);
  BOOST_REQUIRE_MESSAGE(keep_all.outcome == ParseOutcome::kRun, keep_all.error);
  BOOST_TEST(keep_all.config.delivery_retention_days == 0);
}

BOOST_AUTO_TEST_CASE(required_options_missing) {
  Parsed no_store = Parse({"--signing-secret-file", "/nonexistent"});
  Parsed no_secret = Parse({"--store", "/tmp/x"});
  BOOST_TEST(no_store.error.find("--store") != std::string::npos);
  BOOST_TEST(no_secret.error.find("--signing-secret-file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secret_file_checks) {
  TempDir dir;
  WriteFile(dir.Sub("open"), "visible", 0644);
  WriteFile(dir.Sub("empty"), "\n");
  std::string secret;
  std::string error;

  BOOST_TEST(!ReadSecretFile(dir.Sub("open"), false, &secret, &error));
  BOOST_TEST(error.find("chmod 600") != std::string::npos);
  BOOST_TEST(error.find("visible") == std::string::npos);
  BOOST_TEST(ReadSecretFile(dir.Sub("open"), true, &secret, &error));
  BOOST_TEST(secret == "visible");
  BOOST_TEST(!ReadSecretFile(dir.Sub("empty"), false, &secret, &error));
  BOOST_TEST(!ReadSecretFile(dir.Sub("missing"), false, &secret, &error));
  BOOST_TEST(error.find("missing") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(credentials_directory_prefix) {
  TempDir dir;
  WriteFile(dir.Sub("terra-signing"), "from-systemd");
  setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
  std::string secret;
  std::string error;
  bool read = ReadSecretFile("%d/terra-signing", false, &secret, &error);
  unsetenv("CREDENTIALS_DIRECTORY");
  BOOST_REQUIRE_MESSAGE(read, error);
  BOOST_TEST(secret == "from-systemd");
  BOOST_TEST(!ReadSecretFile("%d/terra-signing", false, &secret, &error));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::daemon
