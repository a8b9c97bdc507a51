// A plain HTTP server on 127.0.0.1 between `terra-syncctl replay --to` and a
// terra-syncd. It forwards each request to the daemon and relays the
// response, except for the trace ids configured to fail. For those it closes
// the connection without a response, responds 500, or never responds.

#ifndef TERRA_TESTS_TOOLS_FAULTY_RELAY_H_
#define TERRA_TESTS_TOOLS_FAULTY_RELAY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace terra::testing {

// What the relay does with a request instead of forwarding it.
enum class RelayFault {
  kDrop,         // reads the request, then closes the connection
  kServerError,  // answers 500
  kStall,        // never responds, and waits until the client closes
};

// Thread safety: construct and destroy on one thread. It serves on its own
// thread until destroyed.
class FaultyRelay {
 public:
  // Listens on a free port of 127.0.0.1 and forwards to 127.0.0.1:daemon_port.
  // `faults` maps X-Terra-Trace-Id values to what happens to them. Throws
  // boost::system::system_error if it cannot listen.
  FaultyRelay(uint16_t daemon_port, std::map<std::string, RelayFault> faults);
  ~FaultyRelay();
  FaultyRelay(const FaultyRelay&) = delete;
  FaultyRelay& operator=(const FaultyRelay&) = delete;

  // Returns http://127.0.0.1:PORT/webhooks/terra.
  std::string url() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace terra::testing

#endif  // TERRA_TESTS_TOOLS_FAULTY_RELAY_H_
