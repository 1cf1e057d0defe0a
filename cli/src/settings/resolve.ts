import { readFileSync } from 'node:fs';
import { API } from '@mandate/sdk';
import { usageError } from '../errors.js';
import { type ConfigFile, OUTPUT_FORMATS, type OutputFormat, type Profile } from './config-file.js';

/** The options every command takes (see program.ts). */
export interface GlobalOptions {
  profile?: string;
  baseUrl?: string;
  organization?: string;
  tokenFile?: string;
  output?: string;
  debug?: boolean;
  /** false with --no-color. */
  color?: boolean;
}

/** Where a setting came from, as whoami shows it. */
export type Source = 'flag' | 'environment' | 'profile' | 'default';

export interface Settings {
  profileName: string;
  profile: Profile | undefined;
  baseURL: string;
  baseURLSource: Source;
  organization: string | undefined;
  token: string | undefined;
  /** `--token-file`, `MANDATE_API_TOKEN`, `profile tokenFile`, … */
  tokenSource: string | undefined;
  output: OutputFormat;
  debug: boolean;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/** A token file's content, trimmed; `-` is standard input. Its content never appears in a message. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw usageError(`Cannot read the token file ${path} (${reason}).`);
  }
  const token = text.trim();
  if (token === '') throw usageError(`The token file ${path} is empty.`);
  return token;
}

/** The profile in use: --profile, else MANDATE_PROFILE, else the file's default, else "default". */
export function profileNameOf(options: GlobalOptions, config: ConfigFile, env: NodeJS.ProcessEnv): { name: string; chosen: boolean } {
  const chosen = nonEmpty(options.profile) ?? nonEmpty(env.MANDATE_PROFILE);
  if (chosen !== undefined) return { name: chosen, chosen: true };
  return { name: config.defaultProfile ?? 'default', chosen: false };
}

export function parseOutput(value: string, where: string): OutputFormat {
  if (!OUTPUT_FORMATS.includes(value as OutputFormat)) throw usageError(`${where}: unknown output format "${value}"; use one of ${OUTPUT_FORMATS.join(', ')}.`);
  return value as OutputFormat;
}

/**
 * Flags win over the environment (the SDK's own MANDATE_API_TOKEN, MANDATE_BASE_URL and
 * MANDATE_ORGANIZATION, plus MANDATE_API_TOKEN_FILE), which wins over the profile. A
 * profile named explicitly must exist, except for the commands that create one.
 */
export function resolveSettings(options: GlobalOptions, config: ConfigFile, env: NodeJS.ProcessEnv, allowNewProfile = false): Settings {
  const { name, chosen } = profileNameOf(options, config, env);
  const profile = config.profiles[name];
  if (profile === undefined && chosen && !allowNewProfile) {
    const known = Object.keys(config.profiles);
    throw usageError(`No profile named "${name}".`, known.length > 0 ? `Known profiles: ${known.join(', ')}.` : 'Create it with `mandate login --profile NAME`.');
  }

  let baseURL: string = API.defaultBaseURL;
  let baseURLSource: Source = 'default';
  const fromFlag = nonEmpty(options.baseUrl);
  const fromEnv = nonEmpty(env.MANDATE_BASE_URL);
  if (fromFlag !== undefined) [baseURL, baseURLSource] = [fromFlag, 'flag'];
  else if (fromEnv !== undefined) [baseURL, baseURLSource] = [fromEnv, 'environment'];
  else if (profile?.baseURL !== undefined) [baseURL, baseURLSource] = [profile.baseURL, 'profile'];
  try {
    new URL(baseURL);
  } catch {
    throw usageError(`The base URL "${baseURL}" is not a URL.`);
  }

  const organization = nonEmpty(options.organization) ?? nonEmpty(env.MANDATE_ORGANIZATION) ?? profile?.organization;

  let token: string | undefined;
  let tokenSource: string | undefined;
  const envToken = nonEmpty(env.MANDATE_API_TOKEN);
  const envTokenFile = nonEmpty(env.MANDATE_API_TOKEN_FILE);
  if (nonEmpty(options.tokenFile) !== undefined) {
    [token, tokenSource] = [readTokenFile(options.tokenFile ?? ''), '--token-file'];
  } else if (envToken !== undefined) {
    [token, tokenSource] = [envToken, 'MANDATE_API_TOKEN'];
  } else if (envTokenFile !== undefined) {
    [token, tokenSource] = [readTokenFile(envTokenFile), 'MANDATE_API_TOKEN_FILE'];
  } else if (profile?.token !== undefined) {
    [token, tokenSource] = [profile.token, `profile ${name}`];
  } else if (profile?.tokenFile !== undefined) {
    [token, tokenSource] = [readTokenFile(profile.tokenFile), `profile ${name} (tokenFile)`];
  }

  const outputText = nonEmpty(options.output) ?? nonEmpty(env.MANDATE_OUTPUT);
  const output = outputText !== undefined ? parseOutput(outputText, outputText === options.output ? '--output' : 'MANDATE_OUTPUT') : (profile?.output ?? 'table');
  const debug = options.debug === true || (nonEmpty(env.MANDATE_DEBUG) !== undefined && env.MANDATE_DEBUG !== '0');

  return { profileName: name, profile, baseURL, baseURLSource, organization, token, tokenSource, output, debug };
}
