-- atelier's load engine for wrk. atelier/loadtest/wrk.py writes `local C = {...}` (the run's
-- configuration) above this text and runs `wrk -t N -c N`: one connection per thread, so every
-- response is paired with its request and its latency is exact. With C.rate > 0 the load is
-- open loop (wrk2-style): each connection sends on a fixed schedule, staggered so that together
-- they send every 1/rate seconds, and latency is measured from the scheduled send time. A slow
-- answer then delays the connection's next sends and that wait is counted, so a slow server
-- cannot hide its slowness by slowing the load down (no coordinated omission).
-- With fewer threads than connections (C.exact false: cheaper, for the closed loop) responses
-- cannot be paired with requests: the engine then only counts statuses and responses per
-- second, and reads at the end the latency wrk itself recorded for every response (from the
-- send of the request to the end of its answer, to the µs; those slower than wrk's --timeout
-- are not recorded but counted as timeouts), to which wrk adds, before done(), synthetic
-- samples for coordinated omission. There is no latency over time in that mode.
-- At the end, done() prints one line `ATELIER-RESULT {json}` that wrk.py parses.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } atelier_timespec;
int clock_gettime(int clock_id, atelier_timespec *tp);
]]
local timespec = ffi.new("atelier_timespec")
local function now_us()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC: the clock of Python's time.monotonic()
  return tonumber(timespec.tv_sec) * 1000000 + tonumber(timespec.tv_nsec) / 1000
end

local RES = C.resolution -- latency histogram buckets per factor e (50: 2% wide buckets)
local floor, log, random = math.floor, math.log, math.random
local function bucket(us)
  if us < 1 then us = 1 end
  return floor(log(us) * RES)
end

-- The main Lua state numbers the threads and gathers their figures at the end.
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("index", #threads)
end

-- Each thread's state: its one connection's figures.
index = 0
hist, status = {}, {}
-- Per second of the run (wrk copies only flat tables between threads): responses, errors, and
-- the latency histogram keyed second * 10000 + bucket.
sec_n, sec_e, sec_h = {}, {}, {}
sent, completed, late, late_ok, lat_sum, lat_max, last = 0, 0, 0, 0, 0, 0, 0
inflight = false

local endpoints = C.endpoints
local interval = 0 -- µs between two sends of this connection (open loop)
local next_at = nil -- when this connection's next request is due
local scheduled, send_time = 0, 0
local verifying = false

function init(args)
  math.randomseed(C.seed * 7919 + index)
  for _ = 1, 10 do random() end
  if C.rate > 0 then interval = C.connections * 1000000 / C.rate end
  -- wrk calls request() once in the first thread's state before the run, to check it parses.
  verifying = index == 1
end

local function build()
  local r = random()
  local e = endpoints[#endpoints]
  for i = 1, #endpoints do
    if r < endpoints[i].cum then e = endpoints[i]; break end
  end
  local path, body = e.head, e.body
  if e.kind ~= "" then
    local range = C.ranges[e.kind]
    local id = random(range[1], range[2])
    if e.bhead then body = e.bhead .. id .. e.btail else path = e.head .. id .. e.tail end
  end
  if e.cookie then e.headers["Cookie"] = "atelier_session=loadtest-" .. random(1, 1000) end
  return wrk.format(e.method, path, e.headers, body)
end

if C.rate > 0 then
  function delay()
    if next_at == nil then next_at = C.t0 + (index - 1) * 1000000 / C.rate end
    if next_at >= C.t_end then return 3600000 end -- this connection's schedule is over: park it
    local wait = next_at - now_us()
    if wait <= 0 then return 0 end
    return floor(wait / 1000) -- wrk's timers have millisecond steps: never later than due
  end
end

function request()
  if verifying then verifying = false; return build() end
  sent = sent + 1
  if not C.exact then return build() end
  send_time = now_us()
  if C.rate > 0 then
    scheduled = next_at or send_time
    next_at = scheduled + interval
  else
    scheduled = send_time
  end
  inflight = true
  return build()
end

local function count_only(code)
  local now = now_us()
  completed = completed + 1
  last = now
  status[code] = (status[code] or 0) + 1
  local s = floor((now - C.t0) / 1000000)
  sec_n[s] = (sec_n[s] or 0) + 1
  if code >= 400 then sec_e[s] = (sec_e[s] or 0) + 1 end
end

function response(code, headers, body)
  if not C.exact then return count_only(code) end
  if not inflight then return end
  inflight = false
  local now = now_us()
  -- From the scheduled time, or from the send when the millisecond timer sent it a bit early.
  local start = scheduled < send_time and scheduled or send_time
  local lat = now - start
  completed = completed + 1
  last = now
  lat_sum = lat_sum + lat
  if lat > lat_max then lat_max = lat end
  local b = bucket(lat)
  hist[b] = (hist[b] or 0) + 1
  status[code] = (status[code] or 0) + 1
  local failed = code >= 400
  if lat > C.timeout_us then
    late = late + 1
    if not failed then late_ok = late_ok + 1 end
    failed = true
  end
  local s = floor((now - C.t0) / 1000000)
  sec_n[s] = (sec_n[s] or 0) + 1
  if failed then sec_e[s] = (sec_e[s] or 0) + 1 end
  local k = s * 10000 + b
  sec_h[k] = (sec_h[k] or 0) + 1
end

local function json(v)
  local t = type(v)
  if t == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = '"' .. tostring(k) .. '":' .. json(x) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if v == floor(v) and v < 1e15 and v > -1e15 then return string.format("%d", v) end
    return string.format("%.6f", v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "nil" then
    return "null"
  end
  return string.format("%q", tostring(v))
end

local function merge(into, from)
  for k, n in pairs(from) do into[k] = (into[k] or 0) + n end
end

function done(summary, latency, requests)
  local out = {
    threads = #threads, duration_us = summary.duration, wrk_requests = summary.requests,
    bytes = summary.bytes, errors = summary.errors, hist = {}, status = {}, sec_n = {}, sec_e = {}, sec_h = {},
    sent = 0, completed = 0, late = 0, late_ok = 0, lat_sum = 0, lat_max = 0, unanswered = 0, last_s = 0,
  }
  for _, thread in ipairs(threads) do
    for _, name in ipairs({ "sent", "completed", "late", "late_ok", "lat_sum" }) do
      out[name] = out[name] + thread:get(name)
    end
    local m = thread:get("lat_max")
    if m > out.lat_max then out.lat_max = m end
    local l = thread:get("last")
    if l > 0 then out.last_s = math.max(out.last_s, (l - C.t0) / 1000000) end
    if thread:get("inflight") then out.unanswered = out.unanswered + 1 end
    merge(out.hist, thread:get("hist"))
    merge(out.status, thread:get("status"))
    merge(out.sec_n, thread:get("sec_n"))
    merge(out.sec_e, thread:get("sec_e"))
    merge(out.sec_h, thread:get("sec_h"))
  end
  if not C.exact then
    -- wrk's record of every response: percentiles (each one pass over the record), mean and max.
    out.wrk_latency = { mean = latency.mean, max = latency.max, quantiles = {} }
    for i, q in ipairs(C.quantiles) do out.wrk_latency.quantiles[i] = latency:percentile(q) end
  end
  io.write("ATELIER-RESULT ", json(out), "\n")
end
