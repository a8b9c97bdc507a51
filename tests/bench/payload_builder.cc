#include "tests/bench/payload_builder.h"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace terra::bench {
namespace {

namespace json = boost::json;

// Every fixture uses this UTC offset. Store keys take the local date, so the
// offset stays as delivered.
constexpr std::string_view kUtcOffset = "+01:00";

constexpr int kSecondsPerDay = 86400;

// Where each type's session or day starts and how long it lasts, in seconds
// from local midnight of the record's date. A sleep starts the evening
// before, as real sleep sessions do.
struct Window {
  int start_s;
  int length_s;
};

Window TypeWindow(std::string_view type) {
  if (type == "sleep") return {-(45 * 60), 8 * 3600};
  if (type == "activity") return {18 * 3600, 3600};
  return {0, kSecondsPerDay};
}

// Formats local midnight of `date` plus `offset_s` as Terra does, for example
// "2026-06-01T07:30:00.000000+01:00".
std::string Timestamp(std::string_view date, int64_t offset_s) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  std::sscanf(std::string(date).c_str(), "%d-%u-%u", &year, &month, &day);
  using namespace std::chrono;
  sys_seconds time =
      sys_days(std::chrono::year{year} / std::chrono::month{month} /
               std::chrono::day{day}) +
      seconds(offset_s);
  sys_days midnight = floor<days>(time);
  year_month_day ymd(midnight);
  hh_mm_ss clock(time - midnight);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02uT%02ld:%02ld:%02lld.000000",
                static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()),
                static_cast<long>(clock.hours().count()),
                static_cast<long>(clock.minutes().count()),
                static_cast<long long>(clock.seconds().count()));
  return std::string(text) + std::string(kUtcOffset);
}

// Scales every number in `value` by a random factor in [0.8, 1.2], so that
// copies of one template differ the way real measurements do.
void VaryNumbers(json::value* value, std::mt19937_64* rng) {
  std::uniform_real_distribution<double> factor(0.8, 1.2);
  if (value->is_object()) {
    for (auto& member : value->as_object()) VaryNumbers(&member.value(), rng);
  } else if (value->is_array()) {
    for (auto& element : value->as_array()) VaryNumbers(&element, rng);
  } else if (value->is_int64()) {
    *value = static_cast<int64_t>(value->as_int64() * factor(*rng));
  } else if (value->is_double()) {
    *value =
        static_cast<int64_t>(value->as_double() * factor(*rng) * 10) / 10.0;
  }
}

json::object HeartRateSample(const std::string& timestamp, int64_t elapsed_s,
                             std::mt19937_64* rng) {
  std::uniform_int_distribution<int> bpm(48, 172);
  return json::object{{"timestamp", timestamp},
                      {"bpm", bpm(*rng)},
                      {"timer_duration_seconds", elapsed_s},
                      {"context", 0}};
}

json::object GlucoseSample(const std::string& timestamp, int64_t elapsed_s,
                           std::mt19937_64* rng) {
  std::uniform_int_distribution<int> tenths(700, 1800);
  return json::object{{"timestamp", timestamp},
                      {"blood_glucose_mg_per_dL", tenths(*rng) / 10.0},
                      {"glucose_level_flag", 0},
                      {"trend_arrow", 0},
                      {"time_from_midnight", elapsed_s}};
}

// Returns the array that samples of `type` go into, creating the objects on
// the way: heart_rate_data.detailed.hr_samples, or for body
// glucose_data.blood_glucose_samples.
json::array& SampleArray(std::string_view type, json::object* item) {
  if (type == "body") {
    json::object& glucose = (*item)["glucose_data"].emplace_object();
    return glucose["blood_glucose_samples"].emplace_array();
  }
  json::value& heart_rate = (*item)["heart_rate_data"];
  if (!heart_rate.is_object()) heart_rate.emplace_object();
  json::value& detailed = heart_rate.as_object()["detailed"];
  if (!detailed.is_object()) detailed.emplace_object();
  return detailed.as_object()["hr_samples"].emplace_array();
}

// Adds samples spread over the record's window until the body serializes to
// about `target_bytes`.
void AddSamples(const PayloadSpec& spec, json::value* body,
                std::mt19937_64* rng) {
  size_t base_bytes = json::serialize(*body).size();
  if (spec.target_bytes <= base_bytes) return;

  json::object& item = body->at("data").as_array()[0].as_object();
  json::array& samples = SampleArray(spec.type, &item);
  Window window = TypeWindow(spec.type);
  auto make = spec.type == "body" ? GlucoseSample : HeartRateSample;
  size_t sample_bytes =
      json::serialize(make(Timestamp(spec.date, 0), window.length_s, rng))
          .size() +
      1;
  size_t count = (spec.target_bytes - base_bytes) / sample_bytes;
  samples.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    int64_t elapsed =
        static_cast<int64_t>(i) * window.length_s / static_cast<int64_t>(count);
    samples.push_back(
        make(Timestamp(spec.date, window.start_s + elapsed), elapsed, rng));
  }
}

}  // namespace

bool PayloadBuilder::Load(const std::string& fixtures_dir, std::string* error) {
  for (const char* type : {"daily", "sleep", "activity", "body"}) {
    std::string path = fixtures_dir + "/" + type + ".json";
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    boost::system::error_code parse_error;
    json::value value = json::parse(text.str(), parse_error);
    if (!file || parse_error || !value.is_object() ||
        !value.as_object().contains("data")) {
      *error = "cannot read the fixture " + path +
               ": missing, or not a data webhook in JSON";
      return false;
    }
    templates_[type] = std::move(value);
  }
  return true;
}

std::string PayloadBuilder::Build(const PayloadSpec& spec,
                                  std::mt19937_64* rng) const {
  json::value body = templates_.at(spec.type);
  json::object& user = body.at("user").as_object();
  user["user_id"] = spec.user_id;
  user["provider"] = spec.provider;
  user["reference_id"] = "bench-" + spec.user_id.substr(0, 8);

  json::value& item = body.at("data").as_array()[0];
  VaryNumbers(&item, rng);
  json::object& metadata = item.at("metadata").as_object();
  Window window = TypeWindow(spec.type);
  metadata["start_time"] = Timestamp(spec.date, window.start_s);
  metadata["end_time"] = Timestamp(spec.date, window.start_s + window.length_s);
  if (!spec.summary_id.empty()) metadata["summary_id"] = spec.summary_id;

  AddSamples(spec, &body, rng);
  return json::serialize(body);
}

}  // namespace terra::bench
