-- wrk script: plain GETs; prints p50/p99 latency in microseconds.
function done(summary, latency, requests)
  io.write(string.format("p50_us %d\np99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
