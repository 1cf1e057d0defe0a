/** Runs `body` with exactly these MANDATE_* variables set, then restores the environment. */
export async function withEnv(vars: Record<string, string>, body: () => Promise<void>): Promise<void> {
  const saved = process.env;
  process.env = Object.fromEntries(Object.entries(saved).filter(([name]) => !name.startsWith('MANDATE_')));
  Object.assign(process.env, vars);
  try {
    await body();
  } finally {
    process.env = saved;
  }
}
