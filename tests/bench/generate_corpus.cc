// bench-corpus: writes the benchmark corpus. For every user and day it makes
// one daily, sleep, activity and body webhook, signs each with the secret,
// and writes
//
//   small.ndjson   deliveries of 2-8 KB, in the capture format of replay
//   large.ndjson   deliveries of 50-200 KB (one in twenty), same format
//   requests.dat   the first --http-requests deliveries in corpus order, for
//                  the wrk script: per request a line
//                  "<terra-signature> <ordering ms> <trace id> <body bytes>"
//                  followed by the body
//   corpus.json    counts, body bytes and the signing time
//
// Deliveries are ordered day by day, and the ordering timestamp grows by one
// millisecond per delivery, ending one millisecond before the signing time,
// so that the daemon never caps it.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <vector>

#include "store/delivery_record.h"
#include "tests/bench/payload_builder.h"
#include "tools/capture_format.h"

namespace terra::bench {
namespace {

namespace json = boost::json;
namespace po = boost::program_options;

constexpr std::string_view kTypes[] = {"daily", "sleep", "activity", "body"};
constexpr std::string_view kProviders[] = {"GARMIN", "FITBIT", "OURA",
                                           "WHOOP",  "POLAR",  "WITHINGS"};

// Body sizes, from the benchmark's workload definition.
constexpr size_t kSmallMinBytes = 2 << 10;
constexpr size_t kSmallMaxBytes = 8 << 10;
constexpr size_t kLargeMinBytes = 50 << 10;
constexpr size_t kLargeMaxBytes = 200 << 10;

struct Options {
  std::string fixtures_dir;
  std::string secret_file;
  std::string out_dir;
  int users = 1000;
  int days = 30;
  int large_one_in = 20;
  int http_requests = 10000;
  uint64_t seed = 1;
};

struct Totals {
  uint64_t deliveries[2] = {0, 0};  // small, large
  uint64_t body_bytes[2] = {0, 0};
};

bool ParseOptions(int argc, char** argv, Options* options) {
  po::options_description description("bench-corpus options");
  description.add_options()("help", "print this help")(
      "fixtures", po::value(&options->fixtures_dir)->required(),
      "directory of the webhook fixtures (daily.json, sleep.json, ...)")(
      "secret-file", po::value(&options->secret_file)->required(),
      "file with the signing secret")(
      "out", po::value(&options->out_dir)->required(),
      "directory to write the corpus to; created if missing")(
      "users", po::value(&options->users)->default_value(1000),
      "number of users")("days", po::value(&options->days)->default_value(30),
                         "days of data per user")(
      "large-one-in", po::value(&options->large_one_in)->default_value(20),
      "one delivery in this many carries 50-200 KB of samples")(
      "http-requests", po::value(&options->http_requests)->default_value(10000),
      "deliveries written to requests.dat for wrk")(
      "seed", po::value(&options->seed)->default_value(1),
      "seed of the random generator");
  po::variables_map values;
  po::store(po::parse_command_line(argc, argv, description), values);
  if (values.count("help")) {
    std::cout << description << "\n";
    return false;
  }
  po::notify(values);
  return true;
}

std::string RandomUuid(std::mt19937_64* rng) {
  uint64_t high = (*rng)();
  uint64_t low = (*rng)();
  char text[40];
  std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0xffff),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

// Returns "YYYY-MM-DD" of 2026-06-01 plus `day` days.
std::string DateOf(int day) {
  using namespace std::chrono;
  year_month_day date(sys_days(2026y / June / 1) + days(day));
  char text[16];
  std::snprintf(
      text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

// Returns the terra-signature value for `body` signed at `t`.
std::string Sign(const std::string& secret, int64_t t,
                 const std::string& body) {
  std::string message = std::to_string(t) + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &length);
  std::string hex = "t=" + std::to_string(t) + ",v1=";
  char pair[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof(pair), "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

bool ReadSecret(const std::string& path, std::string* secret) {
  std::ifstream file(path);
  if (!file) return false;
  std::stringstream text;
  text << file.rdbuf();
  *secret = text.str();
  while (!secret->empty() &&
         (secret->back() == '\n' || secret->back() == '\r')) {
    secret->pop_back();
  }
  return !secret->empty();
}

// Writes everything about the corpus a benchmark needs to report.
void WriteSummary(const Options& options, const Totals& totals,
                  int64_t signed_at_s) {
  json::object summary{{"users", options.users},
                       {"days", options.days},
                       {"signed_at_s", signed_at_s},
                       {"small_deliveries", totals.deliveries[0]},
                       {"small_body_bytes", totals.body_bytes[0]},
                       {"large_deliveries", totals.deliveries[1]},
                       {"large_body_bytes", totals.body_bytes[1]},
                       {"http_requests", options.http_requests}};
  std::ofstream(options.out_dir + "/corpus.json")
      << json::serialize(summary) << "\n";
}

int Generate(const Options& options) {
  PayloadBuilder builder;
  std::string error;
  std::string secret;
  if (!builder.Load(options.fixtures_dir, &error)) {
    std::cerr << "bench-corpus: " << error << "\n";
    return 1;
  }
  if (!ReadSecret(options.secret_file, &secret)) {
    std::cerr << "bench-corpus: cannot read a secret from "
              << options.secret_file << "\n";
    return 1;
  }
  std::filesystem::create_directories(options.out_dir);
  std::ofstream captures[2] = {
      std::ofstream(options.out_dir + "/small.ndjson"),
      std::ofstream(options.out_dir + "/large.ndjson")};
  std::ofstream requests(options.out_dir + "/requests.dat", std::ios::binary);

  // One user id and provider per user, fixed by the seed.
  std::mt19937_64 rng(options.seed);
  std::vector<std::string> users;
  for (int i = 0; i < options.users; ++i) users.push_back(RandomUuid(&rng));

  int64_t signed_at_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  uint64_t total =
      static_cast<uint64_t>(options.users) * options.days * std::size(kTypes);
  int64_t first_ordering_ms = signed_at_s * 1000 - static_cast<int64_t>(total);
  std::uniform_int_distribution<size_t> small_size(kSmallMinBytes,
                                                   kSmallMaxBytes);
  std::uniform_int_distribution<size_t> large_size(kLargeMinBytes,
                                                   kLargeMaxBytes);
  std::uniform_int_distribution<int> draw(1, options.large_one_in);
  Totals totals;
  uint64_t index = 0;

  for (int day = 0; day < options.days; ++day) {
    std::string date = DateOf(day);
    for (int user = 0; user < options.users; ++user) {
      for (std::string_view type : kTypes) {
        bool large = draw(rng) == 1;
        PayloadSpec spec{std::string(type),
                         users[user],
                         std::string(kProviders[user % std::size(kProviders)]),
                         date,
                         "",
                         large ? large_size(rng) : small_size(rng)};
        if (type == "sleep" || type == "activity") {
          spec.summary_id = RandomUuid(&rng);
        }

        store::DeliveryRecord delivery;
        delivery.sequence = index + 1;
        delivery.received_ms = signed_at_s * 1000;
        delivery.trace_id = "bench-" + std::to_string(index);
        delivery.ordering_header_ms =
            first_ordering_ms + static_cast<int64_t>(index);
        delivery.signed_at_s = signed_at_s;
        delivery.ordering_ms = *delivery.ordering_header_ms;
        delivery.event_type = spec.type;
        delivery.user_id = spec.user_id;
        delivery.body = builder.Build(spec, &rng);
        captures[large] << json::serialize(tools::DeliveryToCapture(delivery))
                        << "\n";

        if (index < static_cast<uint64_t>(options.http_requests)) {
          requests << Sign(secret, signed_at_s, delivery.body) << " "
                   << *delivery.ordering_header_ms << " " << delivery.trace_id
                   << " " << delivery.body.size() << "\n"
                   << delivery.body;
        }
        ++totals.deliveries[large];
        totals.body_bytes[large] += delivery.body.size();
        ++index;
      }
    }
  }

  for (std::ofstream& capture : captures) capture.close();
  requests.close();
  if (!captures[0] || !captures[1] || !requests) {
    std::cerr << "bench-corpus: writing to " << options.out_dir << " failed\n";
    return 1;
  }
  WriteSummary(options, totals, signed_at_s);
  return 0;
}

}  // namespace
}  // namespace terra::bench

int main(int argc, char** argv) {
  terra::bench::Options options;
  try {
    if (!terra::bench::ParseOptions(argc, argv, &options)) return 0;
  } catch (const std::exception& error) {
    std::cerr << "bench-corpus: " << error.what() << "\n";
    return 1;
  }
  return terra::bench::Generate(options);
}
