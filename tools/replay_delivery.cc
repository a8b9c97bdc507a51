#include "tools/replay_delivery.h"

#include "daemon/webhook_handler.h"

namespace terra::tools {

std::string ReplayTraceId(const store::DeliveryRecord& delivery,
                          const TraceIdPolicy& policy, uint64_t index) {
  if (!policy.new_trace_ids) {
    return delivery.trace_id;
  }
  std::string run = std::to_string(policy.run_ms);
  if (delivery.trace_id.empty()) {
    return "replay:" + run + ":" + std::to_string(index);
  }
  return delivery.trace_id + ":replay:" + run;
}

std::string DescribeDelivery(std::string_view verb,
                             const store::DeliveryRecord& delivery,
                             std::string_view trace_id) {
  std::string line(verb);
  line += " ";
  line += trace_id.empty() ? "-" : trace_id;
  line += " ";
  line += delivery.event_type.empty() ? "-" : delivery.event_type;
  line += " " + std::to_string(delivery.body.size()) + " bytes";
  return line;
}

std::optional<int64_t> ReplayOrderingMs(const store::DeliveryRecord& delivery) {
  if (delivery.signed_at_s != 0) {
    return daemon::EffectiveOrderingMs(delivery.ordering_header_ms.has_value(),
                                       delivery.ordering_header_ms.value_or(0),
                                       delivery.signed_at_s);
  }
  if (delivery.ordering_ms > 0) {
    return delivery.ordering_ms;
  }
  return std::nullopt;
}

}  // namespace terra::tools
