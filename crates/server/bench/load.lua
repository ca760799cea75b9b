-- wrk script: a mixed load of reads and audited writes on `cryoseed serve --demo`.
--
-- Run through crates/server/bench/run.sh, which starts the service, signs in once per user and
-- passes the sessions in the environment:
--   CRYOSEED_INV_COOKIE, CRYOSEED_INV_CSRF   investigator of SITE-01 (inv1)
--   CRYOSEED_READER_COOKIE                   blinded reader (reader1)
--   CRYOSEED_ADJ_COOKIE                      adjudicator (adj1)
--   CRYOSEED_PATIENTS                        space-separated randomized SITE-01 patient ids
--   CRYOSEED_THREAD_REQUESTS (optional)      stop each wrk thread after this many responses
--                                            (a fixed request sequence, for comparing the
--                                            service's CPU time per request between builds)
--
-- The mix (weights out of 100; every request is a real API call of the service):
--   20  GET  /api/patients                           investigator's patient list
--   15  GET  /api/patients/{id}                      full timeline (audited: a durable `view` entry)
--   10  GET  /api/patients/{id}                      reader's blinded view
--   10  GET  /api/patients/{id}/adverse-events       investigator
--   15  GET  /api/ctcae/terms?q=…                    CTCAE term search with grade definitions
--   10  GET  /api/adjudications                      adjudicator's queue
--   20  POST /api/patients/{id}/adverse-events       a new CTCAE-validated adverse event (audited)
--
-- Every response is counted by status; a write counts as done only with 201 Created. The
-- summary at the end prints the counts; run.sh fails the run when any response is not 2xx.

local inv_cookie = os.getenv("CRYOSEED_INV_COOKIE")
local inv_csrf = os.getenv("CRYOSEED_INV_CSRF")
local reader_cookie = os.getenv("CRYOSEED_READER_COOKIE")
local adj_cookie = os.getenv("CRYOSEED_ADJ_COOKIE")
local patient_list = os.getenv("CRYOSEED_PATIENTS")
if not (inv_cookie and inv_csrf and reader_cookie and adj_cookie and patient_list) then
  error("run through crates/server/bench/run.sh (session cookies and patients come from the environment)")
end

local patients = {}
for id in patient_list:gmatch("%S+") do
  patients[#patients + 1] = id
end
if #patients == 0 then
  error("CRYOSEED_PATIENTS names no patient")
end

local thread_limit = tonumber(os.getenv("CRYOSEED_THREAD_REQUESTS") or "")

local terms = { "nausea", "pain", "fatigue", "pneumothorax", "fever", "hemorrhage", "cough", "rash" }
local ae_terms = { "Nausea", "Fatigue", "Pain", "Fever", "Cough" }

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  threads[#threads + 1] = thread
end

-- Per-thread state (each wrk thread has its own Lua state).
statuses = {}
writes_sent = 0
writes_created = 0
local rng_state
local responses = 0

function init(args)
  -- A fixed seed per thread: the same sequence of requests on every run.
  rng_state = 20261206 + id * 7919
  statuses = {}
end

-- A small multiplicative congruential generator (Park and Miller's "minimal standard" with
-- multiplier 48271; deterministic, independent of Lua's math.random). Lua numbers are doubles:
-- every product stays below 2^53, so the arithmetic is exact. (An earlier version used
-- multiplier 1103515245 modulo 2^31, whose products lost their low bits, so that nearly every
-- patient pick fell on the first patient.) The high bits are used for the pick: the low bits of
-- a congruential generator are its weakest.
local function next_random(n)
  rng_state = (rng_state * 48271) % 2147483647
  return math.floor(rng_state / 2147483647 * n) + 1
end

local function pick(list)
  return list[next_random(#list)]
end

local function get(path, cookie)
  return wrk.format("GET", path, { ["Cookie"] = cookie }, nil)
end

local seq = 0

local function adverse_event(patient)
  seq = seq + 1
  local day = (seq % 28) + 1
  local body = string.format(
    '{"term":"%s","grade":%d,"attributions":[{"cause":"disease","certainty":"possible"}],'
      .. '"onset":"2026-02-%02d","resolution":"2026-03-%02d","meddra_version":"28.0"}',
    pick(ae_terms), (seq % 2) + 1, day, day)
  writes_sent = writes_sent + 1
  return wrk.format("POST", "/api/patients/" .. patient .. "/adverse-events", {
    ["Cookie"] = inv_cookie,
    ["X-CSRF-Token"] = inv_csrf,
    ["Content-Type"] = "application/json",
  }, body)
end

function request()
  local r = next_random(100)
  if r <= 20 then
    return get("/api/patients", inv_cookie)
  elseif r <= 35 then
    return get("/api/patients/" .. pick(patients), inv_cookie)
  elseif r <= 45 then
    return get("/api/patients/" .. pick(patients), reader_cookie)
  elseif r <= 55 then
    return get("/api/patients/" .. pick(patients) .. "/adverse-events", inv_cookie)
  elseif r <= 70 then
    return get("/api/ctcae/terms?q=" .. pick(terms) .. "&limit=10", inv_cookie)
  elseif r <= 80 then
    return get("/api/adjudications", adj_cookie)
  else
    return adverse_event(pick(patients))
  end
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 201 then
    writes_created = writes_created + 1
  end
  responses = responses + 1
  if thread_limit and responses >= thread_limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total = {}
  local sent, created = 0, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
    sent = sent + thread:get("writes_sent")
    created = created + thread:get("writes_created")
  end
  local non2xx = 0
  local parts = {}
  for status, n in pairs(total) do
    parts[#parts + 1] = status .. "=" .. n
    if not status:match("^2") then
      non2xx = non2xx + n
    end
  end
  table.sort(parts)
  local errors = summary.errors
  local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
  io.write("------------------------------------------------------------\n")
  io.write(string.format("responses by status: %s\n", table.concat(parts, " ")))
  io.write(string.format("writes: %d sent, %d created (201)\n", sent, created))
  io.write(string.format("non-2xx responses: %d; socket errors: %d\n", non2xx, socket_errors))
  io.write(string.format("requests/s: %.1f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("latency p%s: %.2f ms\n", tostring(p), latency:percentile(p) / 1000))
  end
  io.write(string.format("RESULT non2xx=%d socket_errors=%d writes_created=%d\n", non2xx, socket_errors, created))
end
