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

/** KEYS[1] the key; ARGV interval and tolerance (µs). Returns {allowed 0|1, tat, now}; the key expires when its TAT passes. */
export const GCRA_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then return {0, tat, now} end
tat = tat + interval
-- as a plain integer: Lua would write a large number in exponent form
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
return {1, tat, now}
`;
