#include "daemon/webhook_handler.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>

#include "daemon/payload_fetcher.h"
#include "daemon/service_metrics.h"
#include "daemon/signature.h"
#include "store/committer.h"
#include "store/delivery_applier.h"

namespace terra::daemon {
namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Verifies every signature header field; the first success wins. Returns the
// error of the first field when none verifies.
SignatureError VerifyAny(const std::vector<std::string>& signatures,
                         std::string_view body,
                         const WebhookHandlerOptions& options, int64_t now_s,
                         int64_t* signed_at_s) {
  if (signatures.empty()) {
    return SignatureError::kMissing;
  }
  SignatureError first = SignatureError::kNone;
  for (const std::string& value : signatures) {
    SignatureError error = VerifySignature(value, body, options.secrets, now_s,
                                           options.tolerance_s, signed_at_s);
    if (error == SignatureError::kNone) {
      return error;
    }
    if (first == SignatureError::kNone) {
      first = error;
    }
  }
  return first;
}

std::string RejectionReason(SignatureError error) {
  switch (error) {
    case SignatureError::kMissing:
      return "missing signature: send the terra-signature header";
    case SignatureError::kMalformed:
      return "malformed signature header: expected t=<unix seconds>,v1=<hex>";
    case SignatureError::kStale:
      return "signature timestamp outside the accepted window: check the "
             "sender's clock";
    case SignatureError::kMismatch:
      return "signature does not match: check the signing secret";
    case SignatureError::kNone:
      break;
  }
  return "invalid signature";
}

void CountOutcome(store::Outcome outcome, WebhookCounters* counters) {
  switch (outcome) {
    case store::Outcome::kStored:
      ++counters->stored;
      break;
    case store::Outcome::kRecorded:
      ++counters->recorded;
      break;
    case store::Outcome::kArchived:
      ++counters->archived;
      break;
    case store::Outcome::kQuarantined:
      ++counters->quarantined;
      break;
  }
}

// Writes one line for a delivery that was committed, at a level that matches
// how much an operator needs to see it.
void LogCommitted(const store::AppliedDelivery& applied) {
  LogFields fields({{"TRACE_ID", applied.trace_id},
                    {"TERRA_USER_ID", applied.user_id},
                    {"CONNECTION_ID", applied.connection_id},
                    {"EVENT_TYPE", applied.event_type}});
  auto level = spdlog::level::debug;
  if (applied.outcome == store::Outcome::kQuarantined) {
    level = spdlog::level::warn;
  } else if (applied.outcome != store::Outcome::kStored) {
    level = spdlog::level::info;
  }
  spdlog::log(level,
              "delivery {} {}: event {} user {} connection {} records {}{}{}",
              applied.trace_id, store::OutcomeName(applied.outcome),
              applied.event_type.empty() ? "-" : applied.event_type,
              applied.user_id.empty() ? "-" : applied.user_id,
              applied.connection_id.empty() ? "-" : applied.connection_id,
              applied.records, applied.note.empty() ? "" : ": ", applied.note);
  if (applied.backfill_queued) {
    spdlog::info("backfill queued for connection {} (user {})",
                 applied.connection_id, applied.user_id);
  }
}

}  // namespace

bool ParseOrderingTimestamp(std::string_view text, int64_t* ms) {
  if (text.empty() || text.size() > 18) {
    return false;
  }
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *ms);
  return error == std::errc() && end == text.data() + text.size() && *ms >= 0;
}

int64_t EffectiveOrderingMs(bool has_header, int64_t header_ms,
                            int64_t signed_at_s) {
  int64_t signed_ms = signed_at_s * 1000;
  if (!has_header) {
    return signed_ms;
  }
  return header_ms < signed_ms ? header_ms : signed_ms;
}

WebhookHandler::WebhookHandler(WebhookHandlerOptions options,
                               const store::DeliveryApplier* applier,
                               store::Committer* committer, Clock clock,
                               ServiceMetrics* metrics)
    : options_(std::make_shared<const WebhookHandlerOptions>(std::move(options))),
      applier_(applier),
      committer_(committer),
      clock_(clock ? std::move(clock) : Clock(SystemNowMs)),
      metrics_(metrics),
      rejection_log_(10, std::chrono::seconds(60)) {}

void WebhookHandler::UpdateOptions(WebhookHandlerOptions options) {
  auto replacement = std::make_shared<const WebhookHandlerOptions>(std::move(options));
  std::lock_guard lock(options_mutex_);
  options_ = std::move(replacement);
}

std::shared_ptr<const WebhookHandlerOptions> WebhookHandler::Options() const {
  std::lock_guard lock(options_mutex_);
  return options_;
}

void WebhookHandler::CountCommitted(const store::AppliedDelivery& applied) {
  CountOutcome(applied.outcome, &counters_);
  if (observer_) {
    observer_(applied.connection_id);
  }
  if (metrics_ == nullptr) {
    return;
  }
  metrics_->deliveries->Add({std::string(store::OutcomeName(applied.outcome)),
                             EventTypeLabel(applied.event_type)});
  metrics_->records_written->Add({}, applied.records);
  if (applied.outcome == store::Outcome::kQuarantined) {
    metrics_->quarantined->Add({});
  }
}

void WebhookHandler::Handle(WebhookRequest request, Done done) {
  int64_t now_ms = clock_();

  // The signature covers the raw bytes, so it is checked before any parsing.
  int64_t signed_at_s = 0;
  SignatureError error = VerifyAny(request.signatures, request.body, *Options(),
                                   now_ms / 1000, &signed_at_s);
  if (error != SignatureError::kNone) {
    ++counters_.signature_failures;
    if (metrics_ != nullptr) {
      metrics_->signature_failures->Add(
          {std::string(SignatureErrorName(error))});
    }
    LogRejection(request, SignatureErrorName(error));
    done(WebhookResponse{401, RejectionReason(error)});
    return;
  }

  int64_t header_ms = 0;
  bool has_header = ParseOrderingTimestamp(request.ordering_timestamp, &header_ms);
  store::Delivery delivery;
  delivery.received_ms = now_ms;
  delivery.source = store::Source::kWebhook;
  delivery.trace_id = std::move(request.trace_id);
  delivery.terra_reference = std::move(request.terra_reference);
  if (has_header) {
    delivery.ordering_header_ms = header_ms;
  }
  delivery.signed_at_s = signed_at_s;
  delivery.ordering_ms = EffectiveOrderingMs(has_header, header_ms, signed_at_s);
  delivery.body = std::move(request.body);

  PayloadFetch fetch{.received_ms = delivery.received_ms,
                     .terra_reference = delivery.terra_reference,
                     .signed_at_s = delivery.signed_at_s,
                     .ordering_ms = delivery.ordering_ms};
  auto applied = std::make_shared<store::AppliedDelivery>();
  store::Status status = applier_->Apply(std::move(delivery), applied.get());
  if (!status.ok()) {
    ++counters_.store_failures;
    if (metrics_ != nullptr) {
      metrics_->store_failures->Add({});
    }
    spdlog::error("cannot apply delivery from {}: {}", request.remote,
                  status.message());
    done(WebhookResponse{503, "store unavailable, retry later"});
    return;
  }

  // The request moves into the committer; the summary stays for the log.
  store::CommitRequest commit = std::move(applied->request);
  committer_->Submit(
      std::move(commit),
      [this, applied, fetch = std::move(fetch),
       done = std::move(done)](const store::CommitResult& result) mutable {
        using Outcome = store::CommitResult::Outcome;
        if (result.outcome == Outcome::kDuplicate) {
          ++counters_.duplicates;
          if (metrics_ != nullptr) {
            metrics_->duplicates->Add({});
          }
          spdlog::debug("delivery {} duplicate: already stored",
                        applied->trace_id);
          done(WebhookResponse{200, "duplicate delivery, already stored"});
          return;
        }
        if (result.outcome == Outcome::kFailed) {
          ++counters_.store_failures;
          if (metrics_ != nullptr) {
            metrics_->store_failures->Add({});
          }
          LogFields fields({{"TRACE_ID", applied->trace_id}});
          spdlog::error("delivery {} not stored: {}", applied->trace_id,
                        result.status.message());
          done(WebhookResponse{503, "store cannot take the write, retry later"});
          return;
        }
        CountCommitted(*applied);
        LogCommitted(*applied);
        if (fetcher_ != nullptr && !applied->payload_url.empty()) {
          fetch.url = applied->payload_url;
          fetch.expires_in_s = applied->payload_expires_in_s;
          fetch.trace_id = applied->trace_id;
          fetcher_->Fetch(std::move(fetch));
        }
        done(WebhookResponse{200, std::string(store::OutcomeName(applied->outcome))});
      });
}

void WebhookHandler::LogRejection(const WebhookRequest& request,
                                  std::string_view reason) {
  uint64_t suppressed = 0;
  std::string key = "signature:" + std::string(reason);
  if (!rejection_log_.Allow(key, &suppressed)) {
    return;
  }
  if (suppressed > 0) {
    spdlog::warn("{} similar signature rejections were not logged",
                 suppressed);
  }
  LogFields fields({{"TRACE_ID", request.trace_id}, {"REMOTE", request.remote}});
  spdlog::warn("rejected webhook from {}: signature {} (trace id {})",
               request.remote, reason,
               request.trace_id.empty() ? "-" : request.trace_id);
}

}  // namespace terra::daemon
