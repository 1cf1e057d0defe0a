// Interpolation, JSON pointers, matchers and the expectation check of the conformance
// scenarios (see README.md), shared by the HTTP runner and the SDK runners written in
// JavaScript/TypeScript. No dependencies.

export class MissingVariable extends Error {}

export function interpolate(value, vars) {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Za-z0-9_.-]+)\}$/.exec(value);
    if (whole) return lookup(whole[1], vars); // keeps the captured type (number, object, …)
    return value.replace(/\$\{([A-Za-z0-9_.-]+)\}/g, (_, name) => {
      const v = lookup(name, vars);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [interpolate(k, vars), interpolate(v, vars)]));
  }
  return value;
}

export function lookup(name, vars) {
  if (!(name in vars)) throw new MissingVariable(`variable \${${name}} is not set (an earlier capture failed?)`);
  return vars[name];
}

export function pointer(doc, ptr) {
  if (ptr === '' || ptr === '/') return { found: true, value: doc };
  if (!ptr.startsWith('/')) return { found: false };
  let cur = doc;
  for (const raw of ptr.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) return { found: false };
    cur = cur[key];
  }
  return { found: true, value: cur };
}

const MATCHER_KEYS = ['matches', 'exists', 'equals', 'contains', 'length', 'type'];
function isMatcher(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => MATCHER_KEYS.includes(k));
}

function deepEqual(a, b) {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}
function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  return v;
}
function typeOf(v) {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

// Returns null when `actual` satisfies `expected`, else a short description of the mismatch.
export function match(expected, got) {
  const show = (v) => (got.found ? JSON.stringify(v) : '(absent)');
  if (!isMatcher(expected)) {
    return got.found && deepEqual(got.value, expected) ? null : `expected ${JSON.stringify(expected)}, got ${show(got.value)}`;
  }
  const out = [];
  if ('exists' in expected && got.found !== expected.exists) out.push(`expected ${expected.exists ? 'present' : 'absent'}, got ${show(got.value)}`);
  if ('equals' in expected && !(got.found && deepEqual(got.value, expected.equals))) out.push(`expected ${JSON.stringify(expected.equals)}, got ${show(got.value)}`);
  if ('matches' in expected && !(got.found && typeof got.value === 'string' && new RegExp(expected.matches).test(got.value))) {
    out.push(`expected a string matching /${expected.matches}/, got ${show(got.value)}`);
  }
  if ('type' in expected && !(got.found && typeOf(got.value) === expected.type)) out.push(`expected type ${expected.type}, got ${got.found ? typeOf(got.value) : '(absent)'}`);
  if ('length' in expected && !(got.found && (Array.isArray(got.value) || typeof got.value === 'string') && got.value.length === expected.length)) {
    out.push(`expected length ${expected.length}, got ${got.found && got.value !== null && got.value.length !== undefined ? got.value.length : show(got.value)}`);
  }
  if ('contains' in expected) {
    const c = expected.contains;
    const ok = got.found && (Array.isArray(got.value) ? got.value.some((x) => deepEqual(x, c)) : typeof got.value === 'string' && typeof c === 'string' && got.value.includes(c));
    if (!ok) out.push(`expected to contain ${JSON.stringify(c)}, got ${show(got.value)}`);
  }
  return out.length === 0 ? null : out.join('; ');
}

/**
 * Compares a response with a step's `expect`; returns one message per mismatch (empty when
 * it matches). `response.header(name)` returns a header's value or null; `describe()` adds
 * context to a status mismatch (e.g. the start of the body).
 */
export function checkResponse(expect, response, vars, describe = () => '') {
  const failures = [];
  if (response.status !== expect.status) failures.push(`status: expected ${expect.status}, got ${response.status} ${describe()}`.trimEnd());
  for (const key of ['code', 'error']) {
    if (expect[key] === undefined) continue;
    const got = response.body?.[key];
    if (got !== expect[key]) failures.push(`${key}: expected ${expect[key]}, got ${JSON.stringify(got ?? null)}`);
  }
  for (const [ptr, want] of Object.entries(expect.fields ?? {})) {
    const m = match(interpolate(want, vars), pointer(response.body ?? {}, ptr));
    if (m !== null) failures.push(`field ${ptr}: ${m}`);
  }
  for (const [name, want] of Object.entries(expect.headers ?? {})) {
    const value = response.header(name);
    const m = match(interpolate(want, vars), value === null ? { found: false } : { found: true, value });
    if (m !== null) failures.push(`header ${name}: ${m}`);
  }
  return failures;
}

/** Applies a step's `capture` to `vars`; returns one message per pointer not in the body. */
export function capture(step, body, vars) {
  const failures = [];
  for (const [name, ptr] of Object.entries(step.capture ?? {})) {
    const got = pointer(body ?? {}, ptr);
    if (got.found) vars[name] = got.value;
    else failures.push(`capture ${name} <- ${ptr}: not in the response`);
  }
  return failures;
}
