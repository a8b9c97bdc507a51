#include "tools/control_command.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include "daemon/date_windows.h"
#include "tools/admin_client.h"
#include "tools/exit_codes.h"

namespace terra::tools {
namespace {

namespace json = boost::json;
namespace po = boost::program_options;

// Where the packaged service's admin socket is (RuntimeDirectory=terra-syncd).
constexpr char kDefaultSocket[] = "/run/terra-syncd/admin.sock";

// Time for one request to the daemon.
constexpr std::chrono::seconds kRequestTimeout{30};

// Delay between two looks at the jobs while --wait waits.
constexpr std::chrono::milliseconds kPollInterval{500};

struct ControlArgs {
  std::string socket = kDefaultSocket;
  std::string user;
  std::string from;
  std::string to;
  bool wait = false;
  int timeout_s = 3600;
};

void AddCommonOptions(po::options_description* options, ControlArgs* args) {
  options->add_options()             //
      ("help,h", "print this help")  //
      ("socket", po::value(&args->socket)->default_value(args->socket),
       "the daemon's admin Unix socket (admin-socket)")  //
      ("wait", po::bool_switch(&args->wait),
       "wait until the queued jobs finish, and print how each ended")  //
      ("timeout", po::value(&args->timeout_s)->default_value(args->timeout_s),
       "seconds --wait waits at most");
}

// Parses `args` for `name`. Returns the exit code to end with after an
// error or --help, or nullopt when the command should run.
std::optional<int> ParseArgs(const std::string& name,
                             const po::options_description& options,
                             const std::vector<std::string>& args,
                             std::ostream& out, std::ostream& err) {
  try {
    po::variables_map values;
    po::store(po::command_line_parser(args).options(options).run(), values);
    if (values.count("help") > 0) {
      out << options << "\n";
      return kExitOk;
    }
    po::notify(values);
  } catch (const po::error& error) {
    err << "terra-syncctl " << name << ": " << error.what()
        << "; run terra-syncctl " << name << " --help for usage\n";
    return kExitUsage;
  }
  return std::nullopt;
}

// Sends one request. Returns the parsed JSON body of a 2xx response, or
// prints why not and sets `exit_code`.
std::optional<json::value> Request(const std::string& name,
                                   const ControlArgs& args,
                                   std::string_view method,
                                   std::string_view target,
                                   const std::string& body, std::ostream& err,
                                   int* exit_code) {
  AdminReply reply =
      SendAdminRequest(args.socket, method, target, body, kRequestTimeout);
  std::string prefix = "terra-syncctl " + name + ": ";
  if (!reply.reached) {
    err << prefix << "the daemon is not running or not reachable ("
        << reply.error << "); start terra-syncd or pass its --socket\n";
    *exit_code = kExitUnreachable;
    return std::nullopt;
  }
  if (reply.status < 200 || reply.status > 299) {
    err << prefix << "the daemon rejected the request (HTTP " << reply.status
        << "): " << reply.body;
    *exit_code = reply.status < 500 ? kExitUsage : kExitIncomplete;
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value value = json::parse(reply.body, ec);
  if (ec) {
    err << prefix << "the daemon's answer is not JSON: " << reply.body;
    *exit_code = kExitIncomplete;
    return std::nullopt;
  }
  return value;
}

// Returns the states of `ids` in a GET /jobs response; missing ids are left out.
std::map<uint64_t, json::object> FindJobs(const json::value& answer,
                                          const std::vector<uint64_t>& ids) {
  std::map<uint64_t, json::object> found;
  const json::value* jobs =
      answer.is_object() ? answer.get_object().if_contains("jobs") : nullptr;
  if (jobs == nullptr || !jobs->is_array()) {
    return found;
  }
  for (const json::value& job : jobs->get_array()) {
    const json::value* id =
        job.is_object() ? job.get_object().if_contains("id") : nullptr;
    if (id == nullptr || !id->is_number()) {
      continue;
    }
    uint64_t value = id->to_number<uint64_t>();
    if (std::find(ids.begin(), ids.end(), value) != ids.end()) {
      found[value] = job.get_object();
    }
  }
  return found;
}

std::string State(const json::object& job) {
  const json::value* state = job.if_contains("state");
  return state != nullptr && state->is_string()
             ? std::string(state->get_string())
             : "unknown";
}

// Polls GET /jobs until every job of `ids` is done or failed, or the timeout
// passes. Prints one line per job.
int WaitForJobs(const std::string& name, const ControlArgs& args,
                const std::vector<uint64_t>& ids, std::ostream& out,
                std::ostream& err) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(args.timeout_s);
  while (true) {
    int exit_code = kExitOk;
    std::optional<json::value> answer =
        Request(name, args, "GET", "/jobs", "", err, &exit_code);
    if (!answer) {
      return exit_code;
    }
    std::map<uint64_t, json::object> jobs = FindJobs(*answer, ids);
    size_t finished = 0;
    for (const auto& [id, job] : jobs) {
      std::string state = State(job);
      finished += state == "done" || state == "failed" ? 1 : 0;
    }
    if (finished == ids.size()) {
      bool failed = false;
      for (const auto& [id, job] : jobs) {
        out << "job " << id << " " << State(job);
        if (const json::value* error = job.if_contains("error")) {
          out << ": " << json::serialize(*error);
        }
        out << "\n";
        failed = failed || State(job) == "failed";
      }
      return failed ? kExitIncomplete : kExitOk;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      err << "terra-syncctl " << name << ": " << ids.size() - finished
          << " job(s) still unfinished after " << args.timeout_s
          << " s; see terra-syncctl dump jobs\n";
      return kExitIncomplete;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

int RunBackfillCommand(const std::vector<std::string>& args, std::ostream& out,
                       std::ostream& err) {
  ControlArgs control;
  po::options_description options(
      "Usage: terra-syncctl backfill --user ID --from YYYY-MM-DD --to "
      "YYYY-MM-DD [--socket PATH] [--wait]\n"
      "Asks the running daemon to fetch one user's data for the days from "
      "--from to --to, both included");
  options.add_options()                                                //
      ("user", po::value(&control.user)->required(), "Terra user id")  //
      ("from", po::value(&control.from)->required(), "first day")      //
      ("to", po::value(&control.to)->required(), "last day, included");
  AddCommonOptions(&options, &control);
  if (std::optional<int> code =
          ParseArgs("backfill", options, args, out, err)) {
    return *code;
  }

  daemon::DateWindow range;
  if (!daemon::ParseDate(control.from, &range.start) ||
      !daemon::ParseDate(control.to, &range.end) || range.end < range.start) {
    err << "terra-syncctl backfill: invalid --from or --to: use YYYY-MM-DD, "
           "with --to not before --from\n";
    return kExitUsage;
  }
  range.end += std::chrono::days(1);  // the daemon's end date is exclusive
  json::object body{{"user_id", control.user},
                    {"start_date", daemon::FormatDate(range.start)},
                    {"end_date", daemon::FormatDate(range.end)}};

  int exit_code = kExitOk;
  std::optional<json::value> answer =
      Request("backfill", control, "POST", "/backfill", json::serialize(body),
              err, &exit_code);
  const json::value* id = answer && answer->is_object()
                              ? answer->get_object().if_contains("job_id")
                              : nullptr;
  if (id == nullptr || !id->is_number()) {
    return answer ? kExitIncomplete : exit_code;
  }
  uint64_t job_id = id->to_number<uint64_t>();
  out << "backfill job " << job_id << " queued for user " << control.user
      << " from " << control.from << " to " << control.to << "\n";
  return control.wait ? WaitForJobs("backfill", control, {job_id}, out, err)
                      : kExitOk;
}

int RunReconcileCommand(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
  ControlArgs control;
  po::options_description options(
      "Usage: terra-syncctl reconcile [--socket PATH] [--wait]\n"
      "Asks the running daemon to reconcile now: list Terra's users, then "
      "pull the recent days of every due connection");
  AddCommonOptions(&options, &control);
  if (std::optional<int> code =
          ParseArgs("reconcile", options, args, out, err)) {
    return *code;
  }

  int exit_code = kExitOk;
  std::optional<json::value> answer =
      Request("reconcile", control, "POST", "/reconcile", "", err, &exit_code);
  const json::value* listed = answer && answer->is_object()
                                  ? answer->get_object().if_contains("job_ids")
                                  : nullptr;
  if (listed == nullptr || !listed->is_array()) {
    return answer ? kExitIncomplete : exit_code;
  }
  std::vector<uint64_t> ids;
  for (const json::value& id : listed->get_array()) {
    if (id.is_number()) {
      ids.push_back(id.to_number<uint64_t>());
    }
  }
  out << "reconciliation queued " << ids.size() << " job(s)";
  for (uint64_t id : ids) {
    out << " " << id;
  }
  out << "\n";
  return control.wait ? WaitForJobs("reconcile", control, ids, out, err)
                      : kExitOk;
}

}  // namespace terra::tools
