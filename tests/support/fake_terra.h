// A fake of Terra's REST API for tests: HTTPS on 127.0.0.1 (Beast and
// asio::ssl) with a certificate made at test time. It records every request
// and answers through a handler that the test sets: data, an empty array, a
// `processing` body, 429s, 500s, stalls or invalid JSON.

#ifndef TERRA_TESTS_SUPPORT_FAKE_TERRA_H_
#define TERRA_TESTS_SUPPORT_FAKE_TERRA_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace terra::testing {

// One request as the fake received it.
struct RecordedRequest {
  std::string method;
  std::string path;  // without the query, e.g. "/api/v2/daily"
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  uint64_t connection = 0;  // 1 for the first connection accepted, and so on
  std::chrono::steady_clock::time_point at;

  // The data type of a data request: the last path segment ("daily").
  std::string Type() const;
  // Returns query[name], or an empty string.
  std::string Query(const std::string& name) const;
};

// What the fake sends back.
struct FakeReply {
  unsigned status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // wait before answering (a stall)
};

using FakeHandler = std::function<FakeReply(const RecordedRequest& request)>;

// Thread safety: every method may be called from any thread. The server runs
// its own thread until destroyed, and destruction closes every connection.
class FakeTerra {
 public:
  // Listens on 127.0.0.1 (a free port) with the PEM certificate and key.
  // Throws std::runtime_error if it cannot.
  FakeTerra(const std::string& cert_file, const std::string& key_file);
  ~FakeTerra();
  FakeTerra(const FakeTerra&) = delete;
  FakeTerra& operator=(const FakeTerra&) = delete;

  // Replaces the handler; the default one is DataReply.
  void SetHandler(FakeHandler handler);

  uint16_t port() const;

  // "https://127.0.0.1:<port>/api/v2".
  std::string base_url() const;

  // Every request so far, in arrival order.
  std::vector<RecordedRequest> Requests() const;

  // Requests so far whose path ends with "/" + type.
  std::vector<RecordedRequest> RequestsFor(const std::string& type) const;

  uint64_t connections_accepted() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// A 200 with one item per day of the request's [start_date, end_date) for
// its data type (sessions get metadata.summary_id "<type>-<date>"), or the
// athlete profile for /athlete. The `user` is the request's user_id.
FakeReply DataReply(const RecordedRequest& request);

// A 200 with the same envelope as DataReply but an empty `data` array.
FakeReply EmptyReply(const RecordedRequest& request);

// A 200 `/subscriptions` page listing `users` as (user_id, active) pairs,
// with `next` as the next page number, or null when `next` is negative.
FakeReply SubscriptionsReply(
    const std::vector<std::pair<std::string, bool>>& users, int next);

}  // namespace terra::testing

#endif  // TERRA_TESTS_SUPPORT_FAKE_TERRA_H_
