// CPU seconds per process during one measurement of the side-by-side bench: every server
// (each with all its descendants, e.g. kc.sh and its java), the load generator (this process),
// PostgreSQL split by database (each server has its own), Redis, and the whole machine.
// Read from /proc (Linux); elsewhere `end()` returns null.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { byCommand, machine, processSeconds } from '../cpu.mjs';

const PROC = existsSync('/proc/stat');
const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** pid → parent pid of every process. */
function parents() {
  const map = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      map.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  return map;
}

/** CPU seconds of a process and all its descendants, per pid. */
function treeSeconds(rootPid, parentOf) {
  const members = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!members.has(pid) && members.has(ppid)) {
        members.add(pid);
        grew = true;
      }
    }
  }
  const seconds = new Map();
  for (const pid of members) {
    const s = processSeconds(pid);
    if (s !== null) seconds.set(pid, s);
  }
  return seconds;
}

// "postgres: USER DATABASE HOST(PORT) STATE" is a client backend; other titles are the shared
// background processes (checkpointer, walwriter, …).
const BACKEND = /^postgres: \S+ (\S+) \S+\(\d+\)/;

function postgresByDatabase() {
  const byDb = new Map();
  const pids = byCommand('postgres');
  for (const [pid, seconds] of pids) {
    let key = '(background)';
    try {
      const backend = BACKEND.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
      if (backend !== null) key = backend[1];
    } catch {
      continue;
    }
    if (!byDb.has(key)) byDb.set(key, new Map());
    byDb.get(key).set(pid, seconds);
  }
  return byDb;
}

function snapshot(servers) {
  const parentOf = parents();
  return {
    at: process.hrtime.bigint(),
    self: process.cpuUsage(),
    servers: Object.fromEntries(Object.entries(servers).map(([name, pid]) => [name, treeSeconds(pid, parentOf)])),
    postgres: postgresByDatabase(),
    redis: byCommand('redis-server'),
    machine: machine(),
  };
}

function delta(before, after) {
  let total = 0;
  for (const [pid, end] of after ?? new Map()) total += end - (before?.get(pid) ?? 0);
  return total;
}

/**
 * Starts a measurement. `servers` maps a name to the root pid of that server's processes;
 * `databases` maps the same names to their PostgreSQL database. `end()` returns CPU seconds
 * and average busy cores per party over the measured wall time.
 */
export function peerMeter(servers, databases) {
  if (!PROC) return { end: () => null };
  const start = snapshot(servers);
  return {
    end() {
      const stop = snapshot(servers);
      const wall = Number(stop.at - start.at) / 1e9;
      const seconds = {};
      for (const name of Object.keys(servers)) seconds[name] = delta(start.servers[name], stop.servers[name]);
      seconds.loadGenerator = (stop.self.user - start.self.user + stop.self.system - start.self.system) / 1e6;
      const ours = new Set(Object.values(databases));
      const postgres = {};
      for (const [name, db] of Object.entries(databases)) postgres[name] = delta(start.postgres.get(db), stop.postgres.get(db));
      postgres.background = delta(start.postgres.get('(background)'), stop.postgres.get('(background)'));
      // Backends of databases that are not the bench's (a test suite running meanwhile).
      postgres.otherDatabases = 0;
      for (const [db, pids] of stop.postgres) {
        if (db !== '(background)' && !ours.has(db)) postgres.otherDatabases += delta(start.postgres.get(db), pids);
      }
      seconds.postgres = postgres;
      seconds.redis = delta(start.redis, stop.redis);
      const busy = stop.machine.busy - start.machine.busy;
      const accounted =
        Object.keys(servers).reduce((sum, name) => sum + seconds[name], 0) +
        seconds.loadGenerator +
        Object.entries(postgres).reduce((sum, [key, s]) => sum + (key === 'otherDatabases' ? 0 : s), 0) +
        seconds.redis;
      seconds.other = Math.max(0, busy - accounted);
      seconds.machineBusy = busy;
      seconds.stolen = stop.machine.steal - start.machine.steal;
      const rounded = (value) => (typeof value === 'number' ? round(value) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, round(v)])));
      return {
        wallSeconds: round(wall),
        seconds: Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, rounded(v)])),
        machineCores: round((stop.machine.total - start.machine.total) / wall),
      };
    },
  };
}
