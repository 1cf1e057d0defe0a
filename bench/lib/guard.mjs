// What every bench entry point does the same way: read its whole-number flags, and bound
// its run (a watchdog past its time, and a clean stop on SIGINT/SIGTERM).

/** A flag's whole number, at least `least`; anything else ends the bench with status 2. */
export function wholeNumber(name, value, least = 1) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < least) {
    process.stderr.write(`--${name} must be a whole number ≥ ${least} (got "${value}")\n`);
    process.exit(2);
  }
  return n;
}

/**
 * Exits 3 once `budgetSeconds` have passed, and 130 on SIGINT or SIGTERM, after `stop()`
 * (synchronous: kill what the bench started). Returns the watchdog's off switch.
 */
export function boundRun({ budgetSeconds, log, stop }) {
  const watchdog = setTimeout(() => {
    log(`overran its ${Math.round(budgetSeconds)} s bound; stopping`);
    stop();
    process.exit(3);
  }, budgetSeconds * 1000);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      log(`${signal}: stopping`);
      stop();
      process.exit(130);
    });
  }
  return () => clearTimeout(watchdog);
}
