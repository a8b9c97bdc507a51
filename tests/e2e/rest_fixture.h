// A fake Terra API with a test CA, credential files, and a clock file that
// the daemon's REST side reads in place of the system clock, for the
// reconciliation, silence and control tests.

#ifndef TERRA_TESTS_E2E_REST_FIXTURE_H_
#define TERRA_TESTS_E2E_REST_FIXTURE_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/e2e/daemon_fixture.h"
#include "tests/support/fake_terra.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace terra::testing {

inline constexpr char kRestDevId[] = "dev-id-5e71b0";
inline constexpr char kRestApiKey[] = "api-key-c2d94f";

class TerraFixture {
 public:
  // `subject_alt_name` names the fake's certificate; the default matches
  // the base URL.
  explicit TerraFixture(const std::string& subject_alt_name = "IP:127.0.0.1");

  // Daemon arguments: the fake's URL and CA, the credentials, the clock
  // file, the admin socket, a reconciliation at 03:30 UTC without jitter
  // and without silence checks; `extra` follows and may override them.
  std::vector<std::string> Args(const std::vector<std::string>& extra) const;

  // Sets the daemon's clock to "YYYY-MM-DDTHH:MM" UTC.
  void SetClock(const std::string& utc);

  std::string admin_socket() const { return dir_.Sub("admin.sock"); }

  TempDir dir_;
  TestCa ca_;
  ServerCertificate certificate_;
  FakeTerra fake_;
};

// Waits up to `limit` for `condition`, polling. Returns its last value.
bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::seconds limit);

// Requests the fake received for `type`, as "user start..end" lines.
std::vector<std::string> Windows(const FakeTerra& fake,
                                 const std::string& type);

// Sends a lifecycle event {"type": type, "user": {"user_id": user_id}}.
void SendLifecycle(DaemonFixture& daemon, const std::string& type,
                   const std::string& user_id, const std::string& trace_id);

// Returns the connections of the store by id, with their state.
std::map<std::string, std::string> ConnectionStates(DaemonFixture& daemon);

// Returns how many jobs of `kind` are in `state`.
int CountJobs(DaemonFixture& daemon, const std::string& kind,
              const std::string& state);

// Runs terra-syncctl with `args`.
CommandResult RunSyncctl(const TempDir& dir,
                         const std::vector<std::string>& args);

}  // namespace terra::testing

#endif  // TERRA_TESTS_E2E_REST_FIXTURE_H_
