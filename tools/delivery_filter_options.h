// The options that select archived deliveries, shared by `dump deliveries`
// and `replay --from-store`, and their conversion to a DeliveryFilter.

#ifndef TERRA_TOOLS_DELIVERY_FILTER_OPTIONS_H_
#define TERRA_TOOLS_DELIVERY_FILTER_OPTIONS_H_

#include <boost/program_options/options_description.hpp>
#include <string>

#include "store/delivery_queries.h"

namespace terra::tools {

// Option values as typed; Resolve checks and converts them.
struct DeliveryFilterOptions {
  std::string from;  // --from or --received-from, see ParseTimeBound
  std::string to;
  std::string trace_id;
  std::string terra_reference;
  std::string event_type;
  std::string outcome;

  // Names of the time-bound options in error messages: `replay` calls them
  // --received-from and --received-to.
  std::string from_option = "--from";
  std::string to_option = "--to";

  // Adds --trace-id, --reference, --event-type and --outcome to `options`.
  // The time bounds are added by each command, because `dump` shares --from
  // and --to with records.
  void AddTo(boost::program_options::options_description* options);

  // Fills `*filter`. On an invalid value returns false and sets `*error` to a
  // message naming the option and the expected form.
  [[nodiscard]] bool Resolve(store::DeliveryFilter* filter,
                             std::string* error) const;
};

}  // namespace terra::tools

#endif  // TERRA_TOOLS_DELIVERY_FILTER_OPTIONS_H_
