import type { Command } from 'commander';
import { Mandate } from '@mandate/sdk';
import { CliError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { colorsEnabled, makeColors } from './io/colors.js';
import { type DebugWrite, debugFetch, debugLogger, debugWriter } from './io/debug.js';
import { Output } from './io/output.js';
import { type ConfigFile, type OutputFormat, readConfig } from './settings/config-file.js';
import { configFilePath } from './settings/paths.js';
import { type GlobalOptions, type Settings, resolveSettings } from './settings/resolve.js';

/** The format errors are printed in: the command's, once its settings are known. */
let errorFormat: OutputFormat = 'table';
export const currentErrorFormat = (): OutputFormat => errorFormat;

export interface ContextOptions {
  /** login and configure may name a profile that does not exist yet. */
  allowNewProfile?: boolean;
  /** Commands that rewrite the config file tighten a loose mode instead of refusing. */
  fixConfigMode?: boolean;
}

export interface ClientOverrides {
  maxRetries?: number;
  timeout?: number;
  /** Send no token (public operations, and the agent's own credentials instead). */
  anonymous?: boolean;
  clientId?: string;
  clientSecret?: string;
}

/** Everything one command invocation needs: its settings, its output, and SDK clients. */
export class Context {
  readonly debug: DebugWrite | undefined;

  private constructor(
    readonly command: Command,
    readonly configPath: string,
    readonly config: ConfigFile,
    readonly settings: Settings,
    readonly out: Output,
  ) {
    this.debug = settings.debug ? debugWriter(process.stderr) : undefined;
  }

  static of(command: Command, options: ContextOptions = {}): Context {
    const globals = command.optsWithGlobals<GlobalOptions>();
    const env = process.env;
    // Until the settings are read, a failure is reported in the format the flag asks for.
    if (globals.output === 'json' || globals.output === 'yaml') errorFormat = globals.output;
    const warnings: string[] = [];
    const configPath = configFilePath(env);
    const config = readConfig(configPath, { fixMode: options.fixConfigMode === true, warn: (message) => warnings.push(message) });
    const settings = resolveSettings(globals, config, env, options.allowNewProfile === true);
    errorFormat = settings.output;
    const out = new Output(settings.output, makeColors(colorsEnabled(process.stdout, globals.color)), makeColors(colorsEnabled(process.stderr, globals.color)), {
      stdout: process.stdout,
      stderr: process.stderr,
    });
    for (const warning of warnings) out.warn(warning);
    const context = new Context(command, configPath, config, settings, out);
    context.debug?.(`config ${configPath}, profile ${settings.profileName}, base URL ${settings.baseURL} (${settings.baseURLSource}), organization ${settings.organization ?? '-'}, token from ${settings.tokenSource ?? 'nowhere'}`);
    return context;
  }

  /** The admin token in use; a command that needs one fails with exit 3 without it. */
  requireToken(): string {
    const { token } = this.settings;
    if (token === undefined) {
      throw new CliError('No API token: not logged in.', ExitCode.auth, 'Run `mandate login`, set MANDATE_API_TOKEN, or pass --token-file PATH.');
    }
    return token;
  }

  /**
   * An SDK client with the resolved settings. Credentials are always given explicitly (the
   * token, or '' for none), so the SDK never mixes in MANDATE_CLIENT_ID/SECRET from the
   * environment; the CLI has already applied its own precedence.
   */
  client(overrides: ClientOverrides = {}): Mandate {
    const credentials =
      overrides.clientId !== undefined
        ? { clientId: overrides.clientId, clientSecret: overrides.clientSecret ?? '' }
        : { apiToken: overrides.anonymous === true ? '' : this.requireToken() };
    const write = this.debug;
    return new Mandate({
      baseURL: this.settings.baseURL,
      ...credentials,
      ...(this.settings.organization === undefined ? {} : { organization: this.settings.organization }),
      ...(overrides.maxRetries === undefined ? {} : { maxRetries: overrides.maxRetries }),
      ...(overrides.timeout === undefined ? {} : { timeout: overrides.timeout }),
      logLevel: write === undefined ? 'warn' : 'debug',
      logger: debugLogger(write ?? ((line) => process.stderr.write(`${line}\n`))),
      ...(write === undefined ? {} : { fetch: debugFetch(write) }),
    });
  }
}
