import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import YAML from 'yaml';
import { CliError, usageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

/** One named setup: where the server is, which organization, and the credential. */
export interface Profile {
  baseURL?: string;
  organization?: string;
  /** An admin API token, kept here only because this file is private (0600). */
  token?: string;
  /** Or a file that holds the token (a secret manager's mount), read at each use. */
  tokenFile?: string;
  output?: OutputFormat;
}

export interface ConfigFile {
  defaultProfile?: string;
  profiles: Record<string, Profile>;
}

const HEADER = '# mandate CLI configuration (`mandate login`, `mandate configure`).\n# It may hold API tokens: keep it private (mode 0600).\n';

/** Group and others get nothing: the file may hold tokens. */
const PRIVATE_MODE = 0o600;
const LOOSE_BITS = 0o077;

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/**
 * Reads the file, refusing one that others can read (like ssh with a private key) unless
 * `fixMode`: the commands that write the file tighten it instead, and say so.
 */
export function readConfig(path: string, options: { fixMode?: boolean; warn?: (message: string) => void } = {}): ConfigFile {
  if (!existsSync(path)) return { profiles: {} };
  const mode = modeOf(path);
  if (process.platform !== 'win32' && (mode & LOOSE_BITS) !== 0) {
    const octal = mode.toString(8).padStart(4, '0');
    if (options.fixMode !== true) {
      throw new CliError(`${path} is open to other users (mode ${octal}) and may hold tokens; refusing to use it.`, ExitCode.usage, `Run: chmod 600 ${path}`);
    }
    chmodSync(path, PRIVATE_MODE);
    options.warn?.(`${path} was open to other users (mode ${octal}); its mode is now 0600.`);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw usageError(`${path} is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] ?? '' : ''}`);
  }
  return validate(parsed ?? {}, path);
}

function validate(parsed: unknown, path: string): ConfigFile {
  if (typeof parsed !== 'object' || Array.isArray(parsed) || parsed === null) throw usageError(`${path} must be a YAML mapping.`);
  const raw = parsed as Record<string, unknown>;
  const profiles: Record<string, Profile> = {};
  const rawProfiles = raw.profiles ?? {};
  if (typeof rawProfiles !== 'object' || Array.isArray(rawProfiles)) throw usageError(`${path}: profiles must be a mapping of names to settings.`);
  for (const [name, value] of Object.entries(rawProfiles as Record<string, unknown>)) profiles[name] = profileOf(value, `${path}: profile ${name}`);
  const defaultProfile = raw.defaultProfile;
  if (defaultProfile !== undefined && typeof defaultProfile !== 'string') throw usageError(`${path}: defaultProfile must be a profile name.`);
  return { ...(defaultProfile === undefined ? {} : { defaultProfile }), profiles };
}

function profileOf(value: unknown, where: string): Profile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError(`${where} must be a mapping.`);
  const raw = value as Record<string, unknown>;
  const profile: Profile = {};
  for (const key of ['baseURL', 'organization', 'token', 'tokenFile'] as const) {
    const field = raw[key];
    if (field === undefined || field === null) continue;
    if (typeof field !== 'string') throw usageError(`${where}: ${key} must be a string.`);
    profile[key] = field;
  }
  if (raw.output !== undefined) {
    if (!OUTPUT_FORMATS.includes(raw.output as OutputFormat)) throw usageError(`${where}: output must be one of ${OUTPUT_FORMATS.join(', ')}.`);
    profile.output = raw.output as OutputFormat;
  }
  return profile;
}

/**
 * Writes through a temporary file created 0600 and renamed over the old one, so the file is
 * never briefly readable by others nor left half-written. The folder is made 0700.
 */
export function writeConfig(path: string, config: ConfigFile): void {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  const body: Record<string, unknown> = {};
  if (config.defaultProfile !== undefined) body.defaultProfile = config.defaultProfile;
  body.profiles = config.profiles;
  writeFileSync(temporary, HEADER + YAML.stringify(body), { mode: PRIVATE_MODE });
  chmodSync(temporary, PRIVATE_MODE); // the umask may have narrowed it further, never widened
  renameSync(temporary, path);
}
