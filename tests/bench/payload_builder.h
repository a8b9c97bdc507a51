// Builds realistic Terra data webhook bodies for the benchmark corpus. Each
// body starts from the test fixture of its type, which is built from the
// examples in Terra's OpenAPI description. It gets its own user, date and
// summary id. Samples of the kind its schema lists pad it to the requested
// size: heart rate samples for daily, sleep and activity, and blood glucose
// samples for body.
//
// Thread safety: Build is const and may be called from any thread.

#ifndef TERRA_TESTS_BENCH_PAYLOAD_BUILDER_H_
#define TERRA_TESTS_BENCH_PAYLOAD_BUILDER_H_

#include <boost/json/value.hpp>
#include <cstddef>
#include <map>
#include <random>
#include <string>

namespace terra::bench {

// What one body is about.
struct PayloadSpec {
  std::string type;         // "daily", "sleep", "activity" or "body"
  std::string user_id;      // Terra user id
  std::string provider;     // for example "GARMIN"
  std::string date;         // YYYY-MM-DD of the record
  std::string summary_id;   // metadata.summary_id; sessions only
  size_t target_bytes = 0;  // size of the serialized body, within a sample
};

class PayloadBuilder {
 public:
  // Loads `<fixtures_dir>/<type>.json` for each supported type. Returns
  // false with the reason in `*error` if a file is missing or not JSON.
  [[nodiscard]] bool Load(const std::string& fixtures_dir, std::string* error);

  // Returns the serialized body for `spec`. `spec.type` must be one of the
  // loaded types; `rng` varies the measured values.
  std::string Build(const PayloadSpec& spec, std::mt19937_64* rng) const;

 private:
  std::map<std::string, boost::json::value> templates_;
};

}  // namespace terra::bench

#endif  // TERRA_TESTS_BENCH_PAYLOAD_BUILDER_H_
