-- wrk script: GET (the URL given to wrk) with the tokens of $TOKENS_FILE, one per request, each
-- thread starting at its own offset. Reports how often a thread ran out of
-- tokens and started again (a wrap means repeated, so cached, tokens).
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do
  tokens[#tokens + 1] = "Bearer " .. line
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  wraps = 0
  index = math.floor(#tokens * id / counter_total()) + 1
end

function counter_total()
  return tonumber(os.getenv("WRK_THREADS") or "1")
end

function request()
  local token = tokens[index]
  index = index + 1
  if index > #tokens then
    index = 1
    wraps = wraps + 1
  end
  return wrk.format("GET", nil, { ["Authorization"] = token })
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("wraps") or 0)
  end
  io.write(string.format("wraps %d\n", total))
  io.write(string.format("p50_us %d\np99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
