#include "daemon/subscription_sync.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>
#include <memory>

#include "daemon/terra_client.h"
#include "store/committer.h"
#include "store/connection.h"
#include "store/delivery_applier.h"
#include "store/keys.h"
#include "store/store.h"

namespace terra::daemon {
namespace {

namespace json = boost::json;

// Users per page; Terra's default is 500.
constexpr int kUsersPerPage = 500;

// Pages read in one pass at most (a million users), so that a server that
// always names a next page cannot keep the pass going forever.
constexpr int kMaxPages = 2000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Returns the user list of either response form: {"data": {"results": [...],
// "next": n | null}} when paginated, {"users": [...]} otherwise.
const json::array* FindUsers(const json::object& body, int* next) {
  *next = -1;
  if (const json::value* users = body.if_contains("users")) {
    return users->if_array();
  }
  const json::value* data = body.if_contains("data");
  if (data == nullptr || !data->is_object()) {
    return nullptr;
  }
  const json::value* page = data->get_object().if_contains("next");
  if (page != nullptr && page->is_int64()) {
    *next = static_cast<int>(page->get_int64());
  }
  const json::value* results = data->get_object().if_contains("results");
  return results != nullptr ? results->if_array() : nullptr;
}

// One pass: DoPage, OnPage, then the page's commits, then DoPage again.
class Sync : public std::enable_shared_from_this<Sync> {
 public:
  Sync(const SubscriptionSyncSources& sources,
       std::function<void(SubscriptionSummary)> done)
      : sources_(sources), done_(std::move(done)) {}

  void DoPage(int page) {
    page_ = page;
    std::vector<QueryParam> query = {
        {"page", std::to_string(page)},
        {"per_page", std::to_string(kUsersPerPage)}};
    sources_.client->Get("/subscriptions", query,
                         [self = shared_from_this()](TerraResponse response) {
                           self->OnPage(std::move(response));
                         });
  }

 private:
  void OnPage(TerraResponse response) {
    if (response.status != 200) {
      return Finish(response.status == 0
                        ? response.error_detail
                        : "HTTP " + std::to_string(response.status));
    }
    boost::system::error_code ec;
    json::value body = json::parse(response.body, ec);
    int next = -1;
    const json::array* users =
        !ec && body.is_object() ? FindUsers(body.get_object(), &next) : nullptr;
    if (users == nullptr) {
      return Finish("response is not a user list");
    }

    std::vector<store::CommitRequest> changes;
    for (const json::value& user : *users) {
      if (user.is_object()) {
        ++summary_.users;
        if (!Examine(user.get_object(), &changes)) {
          return Finish("cannot read the store");
        }
      }
    }

    bool more = next > page_ && page_ + 1 < kMaxPages;
    if (!more && next > page_) {
      spdlog::warn("subscriptions: stopped after {} pages", kMaxPages);
    }
    Commit(std::move(changes), more ? next : -1);
  }

  // Adds the change that `user` calls for, if any. Returns false when the
  // store cannot be read.
  bool Examine(const json::object& user,
               std::vector<store::CommitRequest>* changes) {
    const json::value* id = user.if_contains("user_id");
    if (id == nullptr || !id->is_string() ||
        !store::IsValidKeyComponent(id->get_string())) {
      return true;
    }
    const json::value* active = user.if_contains("active");
    bool inactive =
        active != nullptr && active->is_bool() && !active->get_bool();

    std::string connection_id;
    store::Status status = sources_.store->Get(
        store::Family::kUserIds, id->get_string(), &connection_id);
    if (status.IsNotFound()) {
      if (inactive) {
        return true;
      }
      ++summary_.discovered;
      return Apply("auth", user, changes);
    }
    if (!status.ok()) {
      return false;
    }
    if (!inactive || !IsReconciled(connection_id)) {
      return true;
    }
    ++summary_.revoked;
    return Apply("deauth", user, changes);
  }

  // Returns whether the connection is active or in error, the states that
  // an inactive user at Terra moves to revoked.
  bool IsReconciled(const std::string& connection_id) {
    std::string bytes;
    store::Connection connection;
    if (!sources_.store->Get(store::Family::kConnections, connection_id, &bytes)
             .ok() ||
        !store::DecodeConnection(bytes, &connection)) {
      return false;
    }
    std::string_view state = connection.Field(store::kFieldState);
    return state == store::kStateActive || state == store::kStateError;
  }

  bool Apply(std::string_view type, const json::object& user,
             std::vector<store::CommitRequest>* changes) {
    json::object body{{"type", type}, {"user", user}};
    if (type == "auth") {
      body["status"] = "success";
    }
    store::Delivery delivery;
    delivery.received_ms = NowMs();
    delivery.source = store::Source::kReconcile;
    delivery.trace_id = "subscriptions:" + std::string(type) + ":" +
                        std::string(user.at("user_id").get_string());
    delivery.signed_at_s = delivery.received_ms / 1000;
    delivery.ordering_ms = delivery.received_ms;
    delivery.body = json::serialize(body);

    store::AppliedDelivery applied;
    if (!sources_.applier->Apply(std::move(delivery), &applied).ok()) {
      return false;
    }
    spdlog::info("subscriptions: user {} {}", applied.user_id,
                 type == "auth" ? "is unknown here; connection created and "
                                  "backfill queued"
                                : "is inactive at Terra; connection revoked");
    // A synthetic event is never a duplicate of a webhook delivery.
    applied.request.dedup_key.clear();
    changes->push_back(std::move(applied.request));
    return true;
  }

  // Commits the page's changes, then reads page `next` (none when negative).
  void Commit(std::vector<store::CommitRequest> changes, int next) {
    if (changes.empty()) {
      return next < 0 ? Finish("") : DoPage(next);
    }
    auto pending = std::make_shared<std::atomic<size_t>>(changes.size());
    auto failed = std::make_shared<std::atomic<bool>>(false);
    for (store::CommitRequest& change : changes) {
      sources_.committer->Submit(
          std::move(change), [self = shared_from_this(), pending, failed,
                              next](const store::CommitResult& result) {
            if (result.outcome == store::CommitResult::Outcome::kFailed) {
              *failed = true;
            }
            if (--*pending == 0) {
              self->AfterCommit(*failed, next);
            }
          });
    }
  }

  void AfterCommit(bool failed, int next) {
    if (failed) {
      return Finish("cannot store the changes");
    }
    if (next < 0) {
      return Finish("");
    }
    DoPage(next);
  }

  void Finish(std::string error) {
    summary_.complete = error.empty();
    summary_.error = std::move(error);
    auto done = std::move(done_);
    done(std::move(summary_));
  }

  SubscriptionSyncSources sources_;
  std::function<void(SubscriptionSummary)> done_;
  SubscriptionSummary summary_;
  int page_ = 0;
};

}  // namespace

void SyncSubscriptions(const SubscriptionSyncSources& sources,
                       std::function<void(SubscriptionSummary)> done) {
  std::make_shared<Sync>(sources, std::move(done))->DoPage(0);
}

}  // namespace terra::daemon
