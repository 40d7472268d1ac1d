-- wrk script for `make bench`: optional method, JSON body and bearer tokens (rotated per
-- request; with tokens, each token goes through every body in turn, so with 8 tokens and 20
-- products every cart gets all 20 lines), and one JSON line of results at the end.
-- BENCH_METHOD, BENCH_BODIES (bodies separated by "\n"), BENCH_TOKENS (space separated),
-- BENCH_IF_NONE_MATCH.

local method = os.getenv("BENCH_METHOD") or "GET"
local bodies, tokens = {}, {}
for line in string.gmatch(os.getenv("BENCH_BODIES") or "", "[^\n]+") do
  table.insert(bodies, line)
end
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "%S+") do
  table.insert(tokens, token)
end
local etag = os.getenv("BENCH_IF_NONE_MATCH")
local counter = 0

request = function()
  counter = counter + 1
  local headers = {}
  local body = nil
  if #bodies > 0 then
    -- The body moves on once per round of the tokens: rotated together, 8 tokens and 20
    -- bodies would pair each token with 5 bodies only (lines filling 4 times as fast).
    local turn = counter
    if #tokens > 0 then
      turn = math.floor(counter / #tokens)
    end
    body = bodies[(turn % #bodies) + 1]
    headers["Content-Type"] = "application/json"
  end
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  end
  if etag then
    headers["If-None-Match"] = etag
  end
  return wrk.format(method, nil, headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, ' ..
    '"p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
