#include "tests/bench/record_items.h"

#include <boost/json.hpp>

#include "store/json_text.h"

namespace terra::bench {

namespace json = boost::json;

std::string BuildItem(const PayloadBuilder& builder, const PayloadSpec& spec,
                      std::mt19937_64* rng) {
  json::value body = json::parse(builder.Build(spec, rng));
  return store::JsonText(body.at("data").as_array()[0]);
}

store::Envelope MakeEnvelope(const std::string& item_json,
                             const std::string& date, int64_t ordering_ms,
                             uint64_t sequence) {
  store::Envelope envelope;
  envelope.ordering_ms = ordering_ms;
  envelope.sequence = sequence;
  envelope.source = store::Source::kWebhook;
  envelope.delivery = sequence;
  envelope.date = date;
  envelope.item_json = item_json;

  json::value item = json::parse(item_json);
  const json::value* scores = item.as_object().if_contains("data_enrichment");
  if (scores != nullptr && scores->is_object()) {
    for (const auto& [key, value] : scores->as_object()) {
      if (value.is_null()) continue;
      envelope.enrichment[std::string(key)] = {ordering_ms, sequence,
                                               store::JsonText(value)};
    }
  }
  return envelope;
}

}  // namespace terra::bench
