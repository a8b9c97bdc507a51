// Fetches the payloads of `s3_payload` events. Terra sends such an event in
// place of a data event that is too large to deliver inline: a pre-signed
// URL valid for `expires_in` seconds. The fetcher downloads it over HTTPS and
// applies the body as the inline event, with the ordering timestamp of the
// event that pointed at it.

#ifndef TERRA_DAEMON_PAYLOAD_FETCHER_H_
#define TERRA_DAEMON_PAYLOAD_FETCHER_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace boost::asio {
class io_context;
}

namespace terra::store {
class Committer;
class DeliveryApplier;
}  // namespace terra::store

namespace terra::daemon {

struct ServiceMetrics;

// A payload to fetch, with what the applied payload inherits from its event.
struct PayloadFetch {
  std::string url;
  int64_t expires_in_s = 0;  // 0: no expiry given
  int64_t received_ms = 0;   // when the event arrived
  std::string trace_id;      // of the event; the payload uses "<id>:payload"
  std::string terra_reference;
  int64_t signed_at_s = 0;
  int64_t ordering_ms = 0;
};

struct PayloadFetcherOptions {
  std::string ca_file;  // extra trusted CAs in PEM, may be empty
  size_t max_body_bytes = size_t{512} << 20;
};

// Thread safety: Fetch may be called from any thread. Everything passed to
// the constructor must outlive the fetcher and its fetches in flight.
class PayloadFetcher {
 public:
  PayloadFetcher(boost::asio::io_context& io_context,
                 const store::DeliveryApplier* applier,
                 store::Committer* committer, ServiceMetrics* metrics,
                 PayloadFetcherOptions options);

  // Starts fetching `fetch.url` unless it has expired or is not https. The
  // outcome is logged with the event's trace id and counted; a failed fetch
  // leaves the event archived, so `terra-syncctl replay` can retry it.
  void Fetch(PayloadFetch fetch);

  uint64_t fetched() const { return fetched_; }
  uint64_t failed() const { return failed_; }

 private:
  void Fail(const PayloadFetch& fetch, const std::string& reason);
  void Apply(const PayloadFetch& fetch, std::string body);

  boost::asio::io_context& io_context_;
  const store::DeliveryApplier* applier_;
  store::Committer* committer_;
  ServiceMetrics* metrics_;
  PayloadFetcherOptions options_;
  std::atomic<uint64_t> fetched_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_PAYLOAD_FETCHER_H_
