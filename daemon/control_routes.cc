#include "daemon/control_routes.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <deque>

#include "daemon/admin_server.h"
#include "daemon/date_windows.h"
#include "daemon/rest_service.h"
#include "store/queries.h"
#include "store/store.h"

namespace terra::daemon {
namespace {

namespace json = boost::json;
using Respond = std::function<void(AdminResponse)>;

// Jobs that GET /jobs returns at most, the newest.
constexpr size_t kMaxListedJobs = 1000;

// Longest range of one operator backfill: Terra's per-request limit (rule
// r1), which also keeps one job's plan to a few hundred windows.
constexpr int kMaxBackfillDays = 1825;

constexpr char kRestOff[] =
    "REST is off: set terra-dev-id-file and terra-api-key-file";

AdminResponse Text(unsigned status, std::string body) {
  return AdminResponse{status, "text/plain; charset=utf-8",
                       std::move(body) + "\n"};
}

AdminResponse Json(unsigned status, const json::value& body) {
  return AdminResponse{status, "application/json",
                       json::serialize(body) + "\n"};
}

std::string StringField(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string()
             ? std::string(value->get_string())
             : std::string();
}

// Parses a /backfill body into `spec`. Returns an error text, empty when
// the body is valid.
std::string ParseBackfill(const std::string& body, JobSpec* spec) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    return "invalid body: expected a JSON object with user_id, start_date "
           "and end_date";
  }
  const json::object& object = value.get_object();
  spec->user_id = StringField(object, "user_id");
  if (spec->user_id.empty()) {
    return "missing user_id";
  }
  if (!ParseDate(StringField(object, "start_date"), &spec->range.start) ||
      !ParseDate(StringField(object, "end_date"), &spec->range.end)) {
    return "invalid start_date or end_date: use YYYY-MM-DD";
  }
  if (spec->range.days() < 1 || spec->range.days() > kMaxBackfillDays) {
    return "invalid range: end_date (exclusive) must be 1 to 1825 days after "
           "start_date";
  }
  return "";
}

void HandleBackfill(store::Store* store, RestService* rest,
                    const AdminRequest& request, Respond respond) {
  if (rest == nullptr) {
    return respond(Text(503, kRestOff));
  }
  JobSpec spec;
  spec.kind = "backfill";
  spec.reason = "operator";
  if (std::string error = ParseBackfill(request.body, &spec); !error.empty()) {
    return respond(Text(400, error));
  }
  store::Status status =
      store::ResolveConnection(*store, spec.user_id, &spec.connection_id);
  if (status.IsNotFound()) {
    return respond(Text(404, "unknown user " + spec.user_id +
                                 ": no connection in the store has this "
                                 "user id"));
  }
  if (!status.ok()) {
    return respond(Text(503, "cannot read the store: " + status.message()));
  }

  spdlog::info("operator backfill for user {} from {} to {} (exclusive)",
               spec.user_id, FormatDate(spec.range.start),
               FormatDate(spec.range.end));
  rest->job_runner().Submit(spec, [respond](uint64_t id) {
    if (id == 0) {
      return respond(Text(503, "cannot store the job; see the daemon's log"));
    }
    respond(Json(202, json::object{{"job_id", id}}));
  });
}

void HandleReconcile(RestService* rest, Respond respond) {
  if (rest == nullptr) {
    return respond(Text(503, kRestOff));
  }
  rest->reconciler().RunNow("operator", [respond](ReconcileRun run) {
    if (!run.note.empty()) {
      return respond(Text(409, run.note));
    }
    json::array ids;
    for (uint64_t id : run.job_ids) {
      ids.push_back(id);
    }
    respond(Json(202, json::object{{"job_ids", std::move(ids)},
                                   {"skipped", run.skipped}}));
  });
}

void HandleJobs(store::Store* store, Respond respond) {
  std::deque<json::value> newest;
  store::Status status =
      store::ForEachJob(*store, [&newest](uint64_t id, std::string_view text) {
        boost::system::error_code ec;
        json::value job = json::parse(text, ec);
        if (ec || !job.is_object()) {
          job = json::object{{"error", "job is not a JSON object"}};
        }
        job.get_object()["id"] = id;
        newest.push_back(std::move(job));
        if (newest.size() > kMaxListedJobs) {
          newest.pop_front();
        }
        return true;
      });
  if (!status.ok()) {
    return respond(Text(503, "cannot read jobs: " + status.message()));
  }
  json::array jobs(newest.begin(), newest.end());
  respond(Json(200, json::object{{"jobs", std::move(jobs)}}));
}

}  // namespace

void RegisterControlRoutes(AdminServer* admin, store::Store* store,
                           RestService* rest) {
  admin->AddRoute("POST", "/backfill", AdminAccess::kUnixSocketOnly,
                  [store, rest](const AdminRequest& request, Respond respond) {
                    HandleBackfill(store, rest, request, std::move(respond));
                  });
  admin->AddRoute("POST", "/reconcile", AdminAccess::kUnixSocketOnly,
                  [rest](const AdminRequest&, Respond respond) {
                    HandleReconcile(rest, std::move(respond));
                  });
  admin->AddRoute("GET", "/jobs", AdminAccess::kUnixSocketOnly,
                  [store](const AdminRequest&, Respond respond) {
                    HandleJobs(store, std::move(respond));
                  });
}

}  // namespace terra::daemon
