-- wrk script: POST /api/event like the tracker does, with varied pages and browsers.
local uas = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
}
local refs = {"", "https://www.google.com/", "https://news.ycombinator.com/", "https://t.co/abc", ""}
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"n":"pageview","u":"https://bench.example.com/page/%d?utm_source=news","d":"bench.example.com","r":"%s"}',
    counter % 500, refs[(counter % #refs) + 1])
  local headers = {}
  headers["Content-Type"] = "text/plain"
  headers["User-Agent"] = uas[(counter % #uas) + 1]
  headers["Accept-Language"] = "en-GB,en;q=0.9"
  return wrk.format("POST", "/api/event", headers, body)
end

done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f non2xx=%d sockerr=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
