// Disk full through the real daemon: the store sits on a small tmpfs that
// the test mounts and then fills. The daemon must answer 503, stay up,
// report the failure on /healthz, store nothing of the rejected delivery,
// and take writes again by itself once space returns.

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/reliability/store_harness.h"
#include "tests/support/http_client.h"
#include "tests/support/signing.h"

namespace terra::testing {
namespace {

constexpr char kWebhookPath[] = "/webhooks/terra";

// Room for the store's files and a few memtables of kWriteBufferSize.
constexpr char kTmpfsSize[] = "size=48m";

// A small memtable, so that a flush (which needs new files) comes after a
// few deliveries: RocksDB preallocates each write-ahead log at about 1.1
// times the memtable size, and writes that fit in it do not fail.
constexpr char kWriteBufferSize[] = "1M";

// Bytes of filler per session: 3 sessions make a body of about 3.5 KiB, so
// the small filesystem fills in a few thousand deliveries.
constexpr size_t kPaddingBytes = 900;

// Deliveries sent at most while waiting for the first 503: about 10 MiB of
// bodies, several times the write-ahead log's preallocated space.
constexpr int kMaxFillDeliveries = 3000;

constexpr auto kRecoveryTimeout = std::chrono::seconds(60);
constexpr auto kPollInterval = std::chrono::milliseconds(200);

bool IsRoot() { return geteuid() == 0; }

// A tmpfs mounted on a fresh directory for the lifetime of the object, and
// unmounted in the destructor (lazily if something still holds it open).
class TmpfsMount {
 public:
  TmpfsMount() : path_(dir_.Sub("fs")) {
    std::filesystem::create_directory(path_);
    if (mount("tmpfs", path_.c_str(), "tmpfs", 0, kTmpfsSize) != 0) {
      throw std::runtime_error("mount tmpfs on " + path_ +
                               " failed: " + std::strerror(errno));
    }
  }
  ~TmpfsMount() {
    if (umount2(path_.c_str(), 0) != 0) umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& path() const { return path_; }

 private:
  TempDir dir_;
  std::string path_;
};

// Writes 1 MiB blocks to `path` until the file system is full. Returns the
// bytes written.
size_t FillFileSystem(const std::string& path) {
  constexpr size_t kBlock = 1 << 20;
  constexpr int kMaxBlocks = 1024;  // far above the tmpfs size
  std::string block(kBlock, 'f');
  FILE* file = std::fopen(path.c_str(), "wb");
  BOOST_REQUIRE(file != nullptr);
  size_t written = 0;
  for (int i = 0; i < kMaxBlocks; ++i) {
    size_t n = std::fwrite(block.data(), 1, block.size(), file);
    written += n;
    if (n < block.size() || std::fflush(file) != 0) break;
  }
  std::fclose(file);
  return written;
}

unsigned HealthStatus(uint16_t admin_port) {
  return Get(admin_port, "/healthz").status;
}

HttpResult SendSigned(uint16_t port, const std::string& secret,
                      const std::string& trace_id, const std::string& body) {
  return Post(port, kWebhookPath, SignedHeaders(secret, body, trace_id), body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(disk_full)

BOOST_AUTO_TEST_CASE(
    answers_503_and_recovers,
    *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
      return IsRoot();
    })) {
  TmpfsMount mount;
  StoreHarness harness(mount.path() + "/store");
  std::unique_ptr<DaemonProcess> daemon =
      harness.StartDaemon({"--write-buffer-size", kWriteBufferSize});
  BOOST_REQUIRE(daemon != nullptr);
  BOOST_REQUIRE(daemon->admin_port() != 0);
  std::vector<std::string> acknowledged;

  // Deliveries before the file system fills are stored.
  for (int i = 0; i < 3; ++i) {
    std::string trace_id = "before-" + std::to_string(i);
    HttpResult result = SendSigned(daemon->port(), harness.secret(), trace_id,
                                   SleepDelivery(trace_id, i));
    BOOST_REQUIRE(result.status == 200u);
    acknowledged.push_back(trace_id);
  }

  // Fill the file system, then send until the store refuses a write.
  std::string filler = mount.path() + "/filler";
  size_t filled = FillFileSystem(filler);
  BOOST_TEST_MESSAGE("filler took " << filled << " bytes");
  std::string rejected_id;
  std::string rejected_body;
  for (int i = 0; i < kMaxFillDeliveries && rejected_id.empty(); ++i) {
    std::string trace_id = "full-" + std::to_string(i);
    std::string body = SleepDelivery(trace_id, i % 100, kPaddingBytes);
    HttpResult result =
        SendSigned(daemon->port(), harness.secret(), trace_id, body);
    if (result.status == 200) {
      acknowledged.push_back(trace_id);
    } else {
      BOOST_REQUIRE_MESSAGE(result.status == 503u,
                            trace_id << " got " << result.status << " "
                                     << result.error << "; log:\n"
                                     << daemon->Log());
      rejected_id = trace_id;
      rejected_body = body;
    }
  }
  BOOST_REQUIRE_MESSAGE(!rejected_id.empty(),
                        "no delivery got 503 on a full file system");

  // The daemon stays up, reports a failure on /healthz, and stored nothing of
  // the rejected delivery.
  BOOST_TEST(kill(daemon->pid(), 0) == 0);
  BOOST_TEST(HealthStatus(daemon->admin_port()) == 503u);
  BOOST_TEST(harness.Dump({"deliveries", "--trace-id", rejected_id}).empty());
  BOOST_TEST(harness.Dump({"records", "--type", "sleep"}).size() ==
             acknowledged.size() * kSessionsPerDelivery);

  // Space returns: health recovers without a restart, and the retried
  // delivery is stored as new (nothing of it was kept before).
  std::filesystem::remove(filler);
  auto deadline = std::chrono::steady_clock::now() + kRecoveryTimeout;
  unsigned health = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    health = HealthStatus(daemon->admin_port());
    if (health == 200) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  BOOST_REQUIRE_MESSAGE(health == 200u,
                        "/healthz still fails after space returned; log:\n"
                            << daemon->Log());
  HttpResult retried =
      SendSigned(daemon->port(), harness.secret(), rejected_id, rejected_body);
  BOOST_TEST(retried.status == 200u);
  BOOST_TEST(retried.body == "stored\n");
  acknowledged.push_back(rejected_id);

  BOOST_TEST(daemon->Stop() == 0);
  std::set<std::string> stored;
  for (const auto& delivery : harness.Dump({"deliveries"})) {
    stored.insert(std::string(delivery.at("trace_id").as_string()));
  }
  for (const std::string& trace_id : acknowledged) {
    BOOST_TEST(stored.count(trace_id) == 1u, trace_id);
  }
  BOOST_TEST(harness.Dump({"records", "--type", "sleep"}).size() ==
             acknowledged.size() * kSessionsPerDelivery);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace terra::testing
