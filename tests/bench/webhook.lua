-- wrk script: sends the pre-signed deliveries of requests.dat in turn, each
-- with a trace id of its own, and prints the result as one JSON line.
--
-- Arguments after "--": the requests.dat path and a run id. The trace id is
-- "<run id>-<thread>-<count>", so that no two requests of a run share one
-- and every request is stored as a new delivery. Trace ids are not covered
-- by the signature, so they can change without signing again. Once the
-- file is used up, the script starts over: the bodies repeat with new trace
-- ids, like Terra re-delivering a date whose data changed.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

-- Each request is split around its trace id, so that sending one costs a
-- single concatenation.
local heads = {}
local tails = {}
local count = 0
local trace_prefix

function init(args)
  local file = assert(io.open(args[1], "rb"))
  trace_prefix = args[2] .. "-" .. thread_number .. "-"
  while true do
    local line = file:read("*l")
    if not line then break end
    local signature, ordering, _, length =
      line:match("^(%S+) (%d+) (%S+) (%d+)$")
    local body = file:read(tonumber(length))
    table.insert(heads, "POST /webhooks/terra HTTP/1.1\r\n" ..
      "Host: 127.0.0.1\r\n" ..
      "Content-Type: application/json\r\n" ..
      "terra-signature: " .. signature .. "\r\n" ..
      "X-Terra-Ordering-Timestamp: " .. ordering .. "\r\n" ..
      "Content-Length: " .. length .. "\r\n" ..
      "X-Terra-Trace-Id: ")
    table.insert(tails, "\r\n\r\n" .. body)
  end
  file:close()
end

function request()
  local index = count % #heads + 1
  count = count + 1
  return heads[index] .. trace_prefix .. count .. tails[index]
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"rps":%.1f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"non_2xx":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3,
    errors.status, errors.connect, errors.read, errors.write,
    errors.timeout))
end
