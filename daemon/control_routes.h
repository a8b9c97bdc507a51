// The operator's control routes on the admin Unix socket (a request over
// TCP gets 403):
//
//   POST /backfill   body {"user_id", "start_date", "end_date"} (dates
//                    YYYY-MM-DD, end exclusive): queues a backfill job;
//                    202 {"job_id": N}
//   POST /reconcile  runs a reconciliation now; 202 {"job_ids": [...],
//                    "skipped": N} once its jobs are queued
//   GET /jobs        200 {"jobs": [...]}: the newest jobs, each its stored
//                    JSON with "id" added
//
// Errors are plain text: 400 for an invalid body, 404 for an unknown user,
// 503 when the REST side is off or the store cannot be read or written.

#ifndef TERRA_DAEMON_CONTROL_ROUTES_H_
#define TERRA_DAEMON_CONTROL_ROUTES_H_

namespace terra::store {
class Store;
}

namespace terra::daemon {

class AdminServer;
class RestService;

// Registers the control routes on `admin`. `rest` is null when the REST
// side is off; /backfill and /reconcile then answer 503 and /jobs still
// lists the stored jobs. `store` and `rest` must outlive `admin`'s requests.
void RegisterControlRoutes(AdminServer* admin, store::Store* store,
                           RestService* rest);

}  // namespace terra::daemon

#endif  // TERRA_DAEMON_CONTROL_ROUTES_H_
