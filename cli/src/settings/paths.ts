import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * `$XDG_CONFIG_HOME/mandate/config.yaml`, else `~/.config/mandate/config.yaml` (the XDG base
 * directory rule, written out rather than pulling a package for two lines). MANDATE_CONFIG
 * names another file, for tests and for several setups side by side.
 */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MANDATE_CONFIG !== undefined && env.MANDATE_CONFIG !== '') return env.MANDATE_CONFIG;
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'mandate', 'config.yaml');
}
