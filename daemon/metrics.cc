#include "daemon/metrics.h"

#include <cstdio>

namespace terra::daemon {
namespace {

std::string FormatNumber(double value) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

void RenderHeader(const std::string& name, const std::string& help,
                  const char* type, std::string* out) {
  *out += "# HELP " + name + " " + help + "\n";
  *out += "# TYPE " + name + " " + type + "\n";
}

std::string RenderLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values) {
  if (names.empty()) {
    return {};
  }
  std::string labels = "{";
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i > 0) {
      labels += ",";
    }
    labels += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  return labels + "}";
}

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)) {}

void CounterFamily::Add(const std::vector<std::string>& label_values,
                        uint64_t amount) {
  std::lock_guard lock(mutex_);
  series_[label_values] += amount;
}

uint64_t CounterFamily::Value(const std::vector<std::string>& label_values) const {
  std::lock_guard lock(mutex_);
  auto found = series_.find(label_values);
  return found == series_.end() ? 0 : found->second;
}

void CounterFamily::Render(std::string* out) const {
  RenderHeader(name_, help_, "counter", out);
  std::lock_guard lock(mutex_);
  if (series_.empty() && label_names_.empty()) {
    *out += name_ + " 0\n";
  }
  for (const auto& [values, count] : series_) {
    *out += name_ + RenderLabels(label_names_, values) + " " +
            std::to_string(count) + "\n";
  }
}

Histogram::Histogram(std::string name, std::string help,
                     std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      bounds_(std::move(bounds)),
      buckets_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) {
    ++bucket;
  }
  std::lock_guard lock(mutex_);
  ++buckets_[bucket];
  sum_ += value;
  ++count_;
}

uint64_t Histogram::Count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void Histogram::Render(std::string* out) const {
  RenderHeader(name_, help_, "histogram", out);
  std::lock_guard lock(mutex_);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i];
    *out += name_ + "_bucket{le=\"" + FormatNumber(bounds_[i]) + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  cumulative += buckets_.back();
  *out += name_ + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  *out += name_ + "_sum " + FormatNumber(sum_) + "\n";
  *out += name_ + "_count " + std::to_string(count_) + "\n";
}

CounterFamily* MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> label_names) {
  Entry entry;
  entry.counter = std::make_unique<CounterFamily>(
      std::move(name), std::move(help), std::move(label_names));
  CounterFamily* counter = entry.counter.get();
  entries_.push_back(std::move(entry));
  return counter;
}

Histogram* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                         std::vector<double> bounds) {
  Entry entry;
  entry.histogram = std::make_unique<Histogram>(std::move(name), std::move(help),
                                                std::move(bounds));
  Histogram* histogram = entry.histogram.get();
  entries_.push_back(std::move(entry));
  return histogram;
}

void MetricsRegistry::AddGauge(std::string name, std::string help,
                               std::vector<std::string> label_names,
                               std::function<std::vector<GaugeSample>()> sample) {
  Entry entry;
  entry.gauge = std::make_unique<Gauge>(Gauge{std::move(name), std::move(help),
                                              std::move(label_names),
                                              std::move(sample)});
  entries_.push_back(std::move(entry));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  for (const Entry& entry : entries_) {
    if (entry.counter) {
      entry.counter->Render(&out);
    } else if (entry.histogram) {
      entry.histogram->Render(&out);
    } else if (entry.gauge) {
      RenderHeader(entry.gauge->name, entry.gauge->help, "gauge", &out);
      for (const GaugeSample& sample : entry.gauge->sample()) {
        out += entry.gauge->name +
               RenderLabels(entry.gauge->label_names, sample.label_values) +
               " " + FormatNumber(sample.value) + "\n";
      }
    }
  }
  return out;
}

}  // namespace terra::daemon
