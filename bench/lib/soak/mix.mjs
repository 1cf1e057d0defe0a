// The soak's mixed workload: several of make bench's scenarios (lib/scenarios.mjs) interleaved
// in one autocannon request list, each request built and its answer checked exactly as that
// scenario builds and checks it, and the answers counted per kind.
import { SCENARIOS } from '../scenarios.mjs';

export const DEFAULT_MIX = 'issuance:50,introspection:40,list:10';

/**
 * Scenarios that can be mixed: served by the main server, and built as plain request lists
 * (the pre-signed ones hand each assertion or proof out once, from a list of their own).
 */
export const MIXABLE = ['issuance', 'token-exchange', 'introspection', 'list', 'health'];

/** `issuance:50,introspection:40,list:10` → [{ id, weight }], weights reduced by their gcd. */
export function parseMix(text) {
  const parts = text.split(',').map((part) => {
    const [id, weight] = part.trim().split(':');
    const w = Number(weight);
    if (!MIXABLE.includes(id)) throw new Error(`--mix: "${id}" cannot be mixed (mixable: ${MIXABLE.join(', ')})`);
    if (!Number.isInteger(w) || w < 1) throw new Error(`--mix: the weight of "${id}" must be a whole number ≥ 1 (got "${weight}")`);
    return { id, weight: w };
  });
  if (new Set(parts.map((p) => p.id)).size !== parts.length) throw new Error('--mix names a scenario twice');
  const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));
  const divisor = parts.reduce((g, p) => gcd(g, p.weight), 0);
  return parts.map((p) => ({ ...p, weight: p.weight / divisor }));
}

/**
 * One cycle of the mix, interleaved (smooth weighted round robin: 50/40/10 gives
 * I N I N I L N I N I …, not five issuances in a row), as scenario ids.
 */
export function cycle(mix) {
  const total = mix.reduce((sum, p) => sum + p.weight, 0);
  const current = new Map(mix.map((p) => [p.id, 0]));
  const order = [];
  for (let i = 0; i < total; i++) {
    for (const p of mix) current.set(p.id, current.get(p.id) + p.weight);
    const pick = mix.reduce((best, p) => (current.get(p.id) > current.get(best.id) ? p : best));
    current.set(pick.id, current.get(pick.id) - total);
    order.push(pick.id);
  }
  return order;
}

/**
 * An autocannon scenario for load() (lib/load.mjs) that runs the mix. The request list
 * repeats the cycle until every scenario has gone through its own list (credentials, tokens)
 * at least once. `answers()` returns the answers per scenario since the last call, and resets.
 */
export function mixedScenario(mix) {
  const order = cycle(mix);
  let counts = {};
  // autocannon calls a request's onResponse and then, synchronously in the same parser
  // callback, verifyBody for that same answer: the kind read there is the one just set.
  let answering = null;
  const onResponse = (id) => (status) => {
    answering = id;
    const c = (counts[id] ??= { answers: 0, non2xx: 0 });
    c.answers += 1;
    if (status < 200 || status > 299) c.non2xx += 1;
  };
  return {
    name: `Mixed: ${mix.map((p) => `${SCENARIOS[p.id].name} ${p.weight}`).join(', ')}`,
    call: mix.map((p) => SCENARIOS[p.id].call).join(' + '),
    order,
    verifyBody: (body) => answering !== null && SCENARIOS[answering].verifyBody(body),
    requests: (tenant, seconds) => {
      const lists = Object.fromEntries(mix.map((p) => [p.id, SCENARIOS[p.id].requests(tenant, seconds).map((r) => ({ ...r, onResponse: onResponse(p.id) }))]));
      // Enough cycles that each scenario's list is used whole (16 tokens, 25 credentials, …).
      const cycles = Math.max(...mix.map((p) => Math.ceil(lists[p.id].length / p.weight)));
      const next = Object.fromEntries(mix.map((p) => [p.id, 0]));
      const requests = [];
      for (let c = 0; c < cycles; c++) for (const id of order) requests.push(lists[id][next[id]++ % lists[id].length]);
      return requests;
    },
    answers() {
      const out = counts;
      counts = {};
      return out;
    },
  };
}
