#include "tools/delivery_filter_options.h"

#include <boost/program_options.hpp>

#include "tools/time_bounds.h"

namespace terra::tools {

namespace po = boost::program_options;

void DeliveryFilterOptions::AddTo(po::options_description* options) {
  options->add_options()  //
      ("trace-id", po::value(&trace_id),
       "deliveries: only the one with this X-Terra-Trace-Id (chunks have "
       "their own, ID:chunk:N)")  //
      ("reference", po::value(&terra_reference),
       "deliveries: only those with this terra-reference header")  //
      ("event-type", po::value(&event_type),
       "deliveries: only this event type, for example daily or auth")  //
      ("outcome", po::value(&outcome),
       "deliveries: only this outcome: stored, recorded, archived or "
       "quarantined");
}

bool DeliveryFilterOptions::Resolve(store::DeliveryFilter* filter,
                                    std::string* error) const {
  for (const auto& [text, end, name] :
       {std::tuple{&from, BoundEnd::kStart, &from_option},
        std::tuple{&to, BoundEnd::kEnd, &to_option}}) {
    if (text->empty()) continue;
    std::optional<int64_t> ms = ParseTimeBound(*text, end);
    if (!ms) {
      *error = *name + " \"" + *text +
               "\" is not a valid date or time; use YYYY-MM-DD (a UTC day) "
               "or YYYY-MM-DDTHH:MM:SSZ";
      return false;
    }
    (end == BoundEnd::kStart ? filter->received_from_ms
                             : filter->received_to_ms) = *ms;
  }

  if (!outcome.empty()) {
    store::Outcome parsed;
    if (!store::ParseOutcomeName(outcome, &parsed)) {
      *error = "--outcome \"" + outcome +
               "\" is not an outcome; use stored, recorded, archived or "
               "quarantined";
      return false;
    }
    filter->outcome = parsed;
  }
  filter->trace_id = trace_id;
  filter->terra_reference = terra_reference;
  filter->event_type = event_type;
  return true;
}

}  // namespace terra::tools
