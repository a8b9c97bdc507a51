// Brings the store's connections into line with the users Terra knows, as
// listed by GET /subscriptions (paginated with `page` and `per_page`):
//
//   user unknown to the store, active    becomes a connection and gets a
//                                        backfill (its `auth` was missed)
//   user known, `active` false           its connection is marked revoked
//   anything else                        unchanged
//
// Each change is applied as a synthetic `auth` or `deauth` event through
// DeliveryApplier and the Committer, with source `reconcile`, so it is
// archived in `deliveries` like any other payload.

#ifndef TERRA_DAEMON_SUBSCRIPTION_SYNC_H_
#define TERRA_DAEMON_SUBSCRIPTION_SYNC_H_

#include <functional>
#include <string>

namespace terra::store {
class Committer;
class DeliveryApplier;
class Store;
}  // namespace terra::store

namespace terra::daemon {

class TerraClient;

// Changes found and made by one pass through /subscriptions.
struct SubscriptionSummary {
  bool complete = false;  // every page was read
  int users = 0;          // users listed
  int discovered = 0;     // connections created
  int revoked = 0;        // connections marked revoked
  std::string error;      // why the pass stopped early
};

// Everything a pass uses; all must outlive the pass.
struct SubscriptionSyncSources {
  TerraClient* client;
  store::Store* store;
  const store::DeliveryApplier* applier;
  store::Committer* committer;
};

// Reads every page of /subscriptions, applies the changes, then calls
// `done` exactly once, on an io_context thread or on the committer's
// thread. A failed request ends the pass with `error` set; changes of the
// pages read so far stay applied.
void SyncSubscriptions(const SubscriptionSyncSources& sources,
                       std::function<void(SubscriptionSummary)> done);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_SUBSCRIPTION_SYNC_H_
