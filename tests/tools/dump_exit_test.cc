// How `terra-syncctl dump` ends when the reader of its output goes away, run
// as the built binary with its standard output on a pipe.

#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/tools/tool_support.h"

namespace terra {
namespace {

using testing::kJuly1Ms;
using testing::PipedSyncctl;

constexpr auto kTimeout = std::chrono::seconds(10);

}  // namespace

BOOST_AUTO_TEST_SUITE(dump_exit)

BOOST_AUTO_TEST_CASE(follow_ends_without_reader) {
  testing::TempDir dir;
  testing::AppliedStore store(dir.Sub("store"));
  store.Apply("not json", "t1", kJuly1Ms);
  std::filesystem::create_directory(dir.Sub("tmp"));

  // Nothing new matches the filter, so the follower never writes again.
  PipedSyncctl run({"dump", "--store", store.path(), "deliveries", "--follow",
                    "--trace-id", "t1", "--format", "ndjson",
                    "--poll-interval", "50"},
                   dir.Sub("tmp"), dir.Sub("err"));
  BOOST_REQUIRE(run.ReadLine(kTimeout).find("\"t1\"") != std::string::npos);
  run.CloseOutput();

  int code = run.Wait(kTimeout);
  BOOST_TEST(code == 0, "exit code " << code << ", stderr: " << run.Errors());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra
