// Prometheus metrics in the text exposition format (version 0.0.4): labeled
// counters, histograms and gauges computed when scraped. Small enough to need
// no client library.

#ifndef TERRA_DAEMON_METRICS_H_
#define TERRA_DAEMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace terra::daemon {

// A counter with a fixed set of label names; one series per label values.
// Thread-safe.
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help,
                std::vector<std::string> label_names);

  // Adds `amount` to the series with `label_values` (one per label name).
  void Add(const std::vector<std::string>& label_values, uint64_t amount = 1);

  // Returns the value of one series, 0 if it was never incremented.
  uint64_t Value(const std::vector<std::string>& label_values) const;

  void Render(std::string* out) const;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, uint64_t> series_;
};

// A histogram without labels. Thread-safe.
class Histogram {
 public:
  // `bounds` are the upper bounds of the buckets, ascending; +Inf is added.
  Histogram(std::string name, std::string help, std::vector<double> bounds);

  void Observe(double value);
  uint64_t Count() const;
  void Render(std::string* out) const;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> buckets_;  // one per bound, plus +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Gauge series computed at scrape time: label values and a value each.
struct GaugeSample {
  std::vector<std::string> label_values;
  double value = 0;
};

// All metrics of the daemon. Families are created once at start; scraping
// renders them in creation order.
class MetricsRegistry {
 public:
  CounterFamily* AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  Histogram* AddHistogram(std::string name, std::string help,
                          std::vector<double> bounds);

  // Registers a gauge whose samples `sample` returns at each scrape; it runs
  // on the scraping thread and must be quick.
  void AddGauge(std::string name, std::string help,
                std::vector<std::string> label_names,
                std::function<std::vector<GaugeSample>()> sample);

  // Returns every metric in the Prometheus text format.
  std::string Render() const;

 private:
  struct Gauge {
    std::string name;
    std::string help;
    std::vector<std::string> label_names;
    std::function<std::vector<GaugeSample>()> sample;
  };
  struct Entry {
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<Histogram> histogram;
    std::unique_ptr<Gauge> gauge;
  };

  std::vector<Entry> entries_;
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string EscapeLabelValue(const std::string& value);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_METRICS_H_
