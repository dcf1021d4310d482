-- wrk script for bench/load.py: POSTs a random pre-built GraphQL body (one JSON document per line
-- of the bodies file) on every request, with a bearer token, and counts bad answers.
--
--   wrk -t1 -c16 -d20s --latency -s bench/wrk_graphql.lua http://127.0.0.1:18101/graphql \
--       -- BODIES_FILE TOKEN_FILE
--
-- A line "TOKEN<TAB>BODY" sends that body with its own token (bench/reps_morning.py: each rep
-- asks for their own morning); other lines use the token of TOKEN_FILE.
--
-- A third argument "seq" sends the lines in order instead (each once while they last: mutations,
-- whose bodies carry a version or an EIK that works once).
--
-- A bad answer: HTTP status other than 200, or a body with "errors", "data":null, "client":null
-- or a userError.
-- done() prints one line "BENCH_JSON {...}" that load.py parses.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local bodies = {}
local tokens = {}
local nbodies = 0
local headers = {}
local default_auth = ""
local sequential = false
local next_line = 0

bad = 0          -- globals: read by done() through thread:get()
sample = ""

function init(args)
  local bodies_file, token_file = args[1], args[2]
  sequential = args[3] == "seq"
  for line in io.lines(bodies_file) do
    if #line > 0 then
      nbodies = nbodies + 1
      local tab = line:find("\t", 1, true)
      if tab then
        tokens[nbodies] = "Bearer " .. line:sub(1, tab - 1)
        bodies[nbodies] = line:sub(tab + 1)
      else
        bodies[nbodies] = line
      end
    end
  end
  local f = assert(io.open(token_file, "r"))
  local token = f:read("*l")
  f:close()
  headers["Content-Type"] = "application/json"
  headers["Accept"] = "application/json"
  default_auth = "Bearer " .. token
  headers["Authorization"] = default_auth
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

function request()
  local i
  if sequential then
    next_line = next_line % nbodies + 1
    i = next_line
  else
    i = math.random(nbodies)
  end
  headers["Authorization"] = tokens[i] or default_auth
  return wrk.format("POST", nil, headers, bodies[i])
end

function response(status, hdrs, body)
  if status ~= 200 or body:find('"errors"', 1, true) or body:find('"data":null', 1, true)
      or body:find('"client":null', 1, true) or body:find('"userErrors":[{', 1, true) then
    bad = bad + 1
    if sample == "" then
      sample = tostring(status) .. " " .. body:sub(1, 300)
    end
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  local first_sample = ""
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
    local s = t:get("sample")
    if first_sample == "" and s and s ~= "" then first_sample = s end
  end
  first_sample = first_sample:gsub('[%c"\\]', " ")
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"bad_responses":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,"bad_sample":"%s"}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean, bad_total,
    e.connect, e.read, e.write, e.status, e.timeout, first_sample))
end
