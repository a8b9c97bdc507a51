// How `terra-syncctl dump` ends when the reader of its output goes away or a
// signal stops it, run as the built binary with its standard output on a
// pipe.

#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/tools/tool_support.h"

namespace terra {
namespace {

using testing::kJuly1Ms;
using testing::PipedSyncctl;

constexpr auto kTimeout = std::chrono::seconds(10);

// Deliveries of kBodyBytes each: their dump is several times what a pipe
// buffers (64 KiB on Linux), so it blocks until the test reads.
constexpr int kLargeDeliveries = 40;
constexpr size_t kBodyBytes = 16 << 10;

// A store too large to dump into a pipe at once, and a TMPDIR of its own, so
// that each scratch directory found there is the dump's.
class LargeStore {
 public:
  LargeStore() : store_(dir_.Sub("store")) {
    for (int i = 0; i < kLargeDeliveries; ++i) {
      store_.Apply(std::string(kBodyBytes, 'x'), "t" + std::to_string(i),
                   kJuly1Ms + i);
    }
    std::filesystem::create_directory(dir_.Sub("tmp"));
  }

  // Starts `dump deliveries` with its output on a pipe.
  std::unique_ptr<PipedSyncctl> StartDump() {
    return std::make_unique<PipedSyncctl>(
        std::vector<std::string>{"dump", "--store", store_.path(),
                                 "deliveries", "--format", "ndjson"},
        dir_.Sub("tmp"), dir_.Sub("err"));
  }

  // Number of terra-syncctl scratch directories in the dump's TMPDIR.
  size_t ScratchCount() const {
    size_t count = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(dir_.Sub("tmp"))) {
      count += entry.path().filename().string().starts_with("terra-syncctl-");
    }
    return count;
  }

 private:
  testing::TempDir dir_;
  testing::AppliedStore store_;
};

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

BOOST_AUTO_TEST_CASE(closed_pipe_removes_scratch) {
  LargeStore store;
  std::unique_ptr<PipedSyncctl> run = store.StartDump();
  BOOST_REQUIRE(run->ReadLine(kTimeout).find("\"t0\"") != std::string::npos);
  BOOST_REQUIRE(store.ScratchCount() == 1u);

  // Like `| head -1`: the next write finds no reader.
  run->CloseOutput();

  int code = run->Wait(kTimeout);
  BOOST_TEST(code == 0, "exit code " << code << ", stderr: " << run->Errors());
  BOOST_TEST(store.ScratchCount() == 0u);
}

BOOST_AUTO_TEST_CASE(sigterm_removes_scratch) {
  LargeStore store;
  std::unique_ptr<PipedSyncctl> run = store.StartDump();
  BOOST_REQUIRE(run->ReadLine(kTimeout).find("\"t0\"") != std::string::npos);
  BOOST_REQUIRE(store.ScratchCount() == 1u);

  // The dump is blocked on the full pipe, so the test reads on until the dump
  // has seen the flag and exited.
  run->Signal(SIGTERM);
  BOOST_TEST(run->Drain(kTimeout));

  int code = run->Wait(kTimeout);
  BOOST_TEST(code == 128 + SIGTERM,
             "exit code " << code << ", stderr: " << run->Errors());
  BOOST_TEST(run->Errors().find("stopped by signal 15") != std::string::npos);
  BOOST_TEST(store.ScratchCount() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra
