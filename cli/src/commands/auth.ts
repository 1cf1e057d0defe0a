import type { Command } from 'commander';
import { usageError } from '../errors.js';
import type { Context } from '../context.js';
import { displayPrefix, identify, type Identity } from '../identity.js';
import { interactive, promptHidden } from '../io/prompt.js';
import { type ConfigFile, type Profile, writeConfig } from '../settings/config-file.js';
import { parseOutput, readTokenFile } from '../settings/resolve.js';
import { confirmAction, run, yesOption } from './common.js';

function showIdentity(ctx: Context, identity: Identity): void {
  if (ctx.out.format !== 'table') {
    ctx.out.data(identity);
    return;
  }
  // The table leaves out what is not known rather than printing a column of dashes.
  const shown = Object.fromEntries(Object.entries(identity).filter(([, value]) => value !== null));
  ctx.out.object(shown);
}

function whereOf(ctx: Context): { profile: string; baseURL: string; organization: string | undefined; tokenSource: string | undefined } {
  const { profileName, baseURL, organization, tokenSource } = ctx.settings;
  return { profile: profileName, baseURL, organization, tokenSource };
}

async function whoami(ctx: Context): Promise<void> {
  const token = ctx.requireToken();
  showIdentity(ctx, await identify(ctx.client(), token, whereOf(ctx)));
}

interface LoginOptions {
  referenceFile?: boolean;
  default?: boolean;
}

/**
 * The token for `login`: the --token-file (or `-` for standard input), MANDATE_API_TOKEN, or
 * typed at the terminal without echo. Never a command-line argument: it would sit in the
 * shell's history and in `ps` for every user of the machine.
 */
async function loginToken(ctx: Context): Promise<string> {
  const { token, tokenSource } = ctx.settings;
  if (token !== undefined && (tokenSource === '--token-file' || tokenSource?.startsWith('MANDATE_API_TOKEN') === true)) return token;
  if (!interactive()) throw usageError('No token to log in with.', 'Pass --token-file PATH (or - for standard input), or set MANDATE_API_TOKEN.');
  const typed = await promptHidden(`API token for ${ctx.settings.baseURL}: `);
  if (typed === '') throw usageError('No token given.');
  return typed;
}

function saveProfile(ctx: Context, update: (profile: Profile) => Profile, makeDefault: boolean): ConfigFile {
  const name = ctx.settings.profileName;
  const profiles = { ...ctx.config.profiles, [name]: update({ ...(ctx.config.profiles[name] ?? {}) }) };
  const config: ConfigFile = { ...ctx.config, profiles };
  if (makeDefault || config.defaultProfile === undefined) config.defaultProfile = name;
  writeConfig(ctx.configPath, config);
  return config;
}

async function login(ctx: Context, opts: LoginOptions): Promise<void> {
  const token = await loginToken(ctx);
  // Verified before anything is saved: a mistyped token never lands in the file.
  const identity = await identify(clientWith(ctx, token), token, whereOf(ctx));
  const flags = ctx.command.optsWithGlobals<{ tokenFile?: string; organization?: string }>();
  if (opts.referenceFile === true && (flags.tokenFile === undefined || flags.tokenFile === '-')) throw usageError('--reference-file needs --token-file PATH (a file, not standard input).');
  saveProfile(
    ctx,
    (profile) => {
      const next: Profile = { ...profile, baseURL: ctx.settings.baseURL };
      if (ctx.settings.organization !== undefined) next.organization = ctx.settings.organization;
      delete next.token;
      delete next.tokenFile;
      if (opts.referenceFile === true && flags.tokenFile !== undefined) next.tokenFile = flags.tokenFile;
      else next.token = token;
      return next;
    },
    opts.default === true,
  );
  ctx.out.success(`Logged in to ${ctx.settings.baseURL} with token ${displayPrefix(token)} (profile ${ctx.settings.profileName}, saved in ${ctx.configPath})`);
  showIdentity(ctx, { ...identity, tokenSource: `profile ${ctx.settings.profileName}` });
}

/** A client for the token being logged in, which may not be the one the settings hold. */
function clientWith(ctx: Context, token: string): ReturnType<Context['client']> {
  const saved = ctx.settings.token;
  ctx.settings.token = token;
  try {
    return ctx.client();
  } finally {
    ctx.settings.token = saved;
  }
}

async function logout(ctx: Context): Promise<void> {
  const name = ctx.settings.profileName;
  if (ctx.config.profiles[name] === undefined) throw usageError(`No profile named "${name}".`);
  saveProfile(
    ctx,
    (profile) => {
      const next = { ...profile };
      delete next.token;
      delete next.tokenFile;
      return next;
    },
    false,
  );
  ctx.out.success(`Removed the token of profile ${name}.`);
  await Promise.resolve();
}

interface ConfigureOptions {
  unsetOrganization?: boolean;
  default?: boolean;
}

/** Sets a profile's fields from the flags given, without contacting the server. */
async function configure(ctx: Context, opts: ConfigureOptions): Promise<void> {
  const flags = ctx.command.optsWithGlobals<{ baseUrl?: string; organization?: string; output?: string; tokenFile?: string }>();
  if (flags.baseUrl !== undefined) new URL(flags.baseUrl); // checked by the settings already; kept explicit
  if (flags.tokenFile !== undefined) {
    if (flags.tokenFile === '-') throw usageError('configure --token-file stores the path of a file; use `mandate login --token-file -` for standard input.');
    readTokenFile(flags.tokenFile); // refuse a file that cannot be read now rather than at the next command
  }
  const config = saveProfile(
    ctx,
    (profile) => {
      const next: Profile = { ...profile };
      if (flags.baseUrl !== undefined) next.baseURL = flags.baseUrl;
      if (flags.organization !== undefined) next.organization = flags.organization;
      if (opts.unsetOrganization === true) delete next.organization;
      if (flags.output !== undefined) next.output = parseOutput(flags.output, '--output');
      if (flags.tokenFile !== undefined) {
        delete next.token;
        next.tokenFile = flags.tokenFile;
      }
      return next;
    },
    opts.default === true,
  );
  const name = ctx.settings.profileName;
  ctx.out.success(`Saved profile ${name} in ${ctx.configPath}.`);
  ctx.out.object(profileView(name, config)[0] ?? {});
  await Promise.resolve();
}

interface ProfileView {
  name: string;
  default: boolean;
  baseURL: string | null;
  organization: string | null;
  token: string | null;
  output: string | null;
}

/** Profiles as listed: the token by its public prefix only. */
function profileView(only: string | undefined, config: ConfigFile): ProfileView[] {
  return Object.entries(config.profiles)
    .filter(([name]) => only === undefined || name === only)
    .map(([name, profile]) => ({
      name,
      default: config.defaultProfile === name,
      baseURL: profile.baseURL ?? null,
      organization: profile.organization ?? null,
      token: profile.token !== undefined ? `${displayPrefix(profile.token)}…` : profile.tokenFile !== undefined ? `file ${profile.tokenFile}` : null,
      output: profile.output ?? null,
    }));
}

export function registerAuth(program: Command): void {
  program
    .command('login')
    .description('verify an API token and save it in a profile (the token from --token-file, MANDATE_API_TOKEN, or typed at the terminal)')
    .option('--reference-file', 'store the --token-file path in the profile instead of the token itself')
    .option('--default', 'make this the default profile')
    .action(run<LoginOptions>(login, { allowNewProfile: true, fixConfigMode: true }));

  program
    .command('logout')
    .description("remove the token from a profile (its other settings stay)")
    .action(run(logout, { fixConfigMode: true }));

  program
    .command('configure')
    .description('set a profile\'s base URL, organization, output format or token file from the global flags, without contacting the server')
    .option('--unset-organization', 'remove the organization from the profile')
    .option('--default', 'make this the default profile')
    .addHelpText('after', '\nExample:\n  mandate configure --profile staging --base-url https://mandate.staging.example --organization org_… --output json')
    .action(run<ConfigureOptions>(configure, { allowNewProfile: true, fixConfigMode: true }));

  program
    .command('whoami')
    .description('show who the configured token is, and where its settings came from')
    .action(run(whoami));

  const profiles = program.command('profiles').description('list, choose and remove saved profiles');
  profiles
    .command('list')
    .description('list the profiles (tokens shown by their public prefix only)')
    .action(run(async (ctx) => {
      const views = profileView(undefined, ctx.config);
      ctx.out.list(views, [
        { header: 'NAME', value: (p) => p.name },
        { header: 'DEFAULT', value: (p) => (p.default ? '*' : '') },
        { header: 'BASE URL', value: (p) => p.baseURL },
        { header: 'ORGANIZATION', value: (p) => p.organization },
        { header: 'TOKEN', value: (p) => p.token },
        { header: 'OUTPUT', value: (p) => p.output },
      ]);
      await Promise.resolve();
    }));
  profiles
    .command('use')
    .description('make a profile the default')
    .argument('<name>', 'profile name')
    .action(run(async (ctx, _opts, [name = '']) => {
      if (ctx.config.profiles[name] === undefined) throw usageError(`No profile named "${name}".`);
      writeConfig(ctx.configPath, { ...ctx.config, defaultProfile: name });
      ctx.out.success(`Profile ${name} is now the default.`);
      await Promise.resolve();
    }, { fixConfigMode: true }));
  profiles
    .command('remove')
    .description('delete a profile and its token from the config file')
    .argument('<name>', 'profile name')
    .option(...yesOption)
    .action(run<{ yes?: boolean }>(async (ctx, opts, [name = '']) => {
      if (ctx.config.profiles[name] === undefined) throw usageError(`No profile named "${name}".`);
      await confirmAction(ctx, `Remove profile ${name}`, opts.yes);
      const profilesLeft = Object.fromEntries(Object.entries(ctx.config.profiles).filter(([key]) => key !== name));
      const config: ConfigFile = { profiles: profilesLeft };
      if (ctx.config.defaultProfile !== undefined && ctx.config.defaultProfile !== name) config.defaultProfile = ctx.config.defaultProfile;
      writeConfig(ctx.configPath, config);
      ctx.out.success(`Removed profile ${name}.`);
    }, { fixConfigMode: true }));
}
