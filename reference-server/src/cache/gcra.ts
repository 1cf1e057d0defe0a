/**
 * The generic cell rate algorithm (GCRA), the arithmetic of every rate limit: a key's state
 * is one number, its theoretical arrival time (TAT). A request at `now` conforms when
 * `now >= TAT - tolerance`; it then moves the TAT one emission interval on. Requests are
 * thus paced at one per interval, with bursts of `tolerance / interval + 1`, and no window
 * edge to burst across. Times are integer microseconds (exact in a double for millennia).
 *
 * The in-process cache runs `gcraStep`; Redis runs `GCRA_LUA`, the same steps, atomically
 * and on Redis's clock, so every instance shares one state per key.
 */
export interface GcraResult {
  allowed: boolean;
  /** The key's TAT after this request (unchanged when refused). */
  tatUs: number;
  nowUs: number;
}

export function gcraStep(storedTatUs: number | null, nowUs: number, intervalUs: number, toleranceUs: number): GcraResult {
  const tatUs = Math.max(storedTatUs ?? nowUs, nowUs);
  if (nowUs < tatUs - toleranceUs) return { allowed: false, tatUs, nowUs };
  return { allowed: true, tatUs: tatUs + intervalUs, nowUs };
}

/**
 * One step for each key of KEYS, in one call (a request's policies cost one round trip);
 * ARGV holds each key's interval and tolerance (µs) in turn. Returns {allowed 0|1, tat} per
 * key, then now; a key expires when its TAT passes.
 */
export const GCRA_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local out = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  if now < tat - tolerance then
    out[#out + 1] = 0
  else
    tat = tat + interval
    -- as a plain integer: Lua would write a large number in exponent form
    redis.call('SET', key, string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
    out[#out + 1] = 1
  end
  out[#out + 1] = tat
end
out[#out + 1] = now
return out
`;

/** One rate limit to step: its key, and its GCRA interval and tolerance (µs). */
export interface GcraCheck {
  key: string;
  intervalUs: number;
  toleranceUs: number;
}
