-- wrk script for bench/run.py. run.py writes a prelude defining
--   bench_tokens (array of bearer tokens), bench_method, bench_path, bench_host
-- in front of this file. Each request takes the next token (one per benchmark
-- account), POST bodies are unique per thread and request, and every non-2xx
-- response is counted (wrk itself counts only status >= 400).

local threads = {}
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  non2xx = 0
  first_error = ""
end

function request()
  counter = counter + 1
  local token = bench_tokens[(counter + tid * 7) % #bench_tokens + 1]
  local headers = { ["Host"] = bench_host, ["Authorization"] = "Bearer " .. token }
  local body = nil
  if bench_method == "POST" then
    headers["Content-Type"] = "application/json"
    body = string.format(
      '{"status":"Bench post %d-%d: the quick brown fox jumps over the lazy dog.","visibility":"public"}',
      tid, counter)
  end
  return wrk.format(bench_method, bench_path, headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then
      first_error = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local bad, err = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local e = thread:get("first_error")
    if err == "" and e ~= nil and e ~= "" then err = e end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max))
  io.write("BENCH_FIRST_ERROR " .. string.gsub(err, "\n", " ") .. "\n")
end
