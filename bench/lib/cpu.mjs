// Who used the (two, shared) cores during a measurement: the server, the load generator
// (this process), PostgreSQL, Redis, and the whole machine. Read from /proc (Linux);
// elsewhere every figure is null.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const PROC = existsSync('/proc/stat');
let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the usual 100
}

/** utime + stime of one process, in seconds; null when it is gone. */
export function processSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}

/**
 * CPU seconds per pid of every process whose command name is `comm` and, when given, whose
 * command line passes `accept` (PostgreSQL: the bench database's backends and the shared
 * background processes, not the test suite's backends).
 */
export function byCommand(comm, accept = () => true) {
  const seconds = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
      if (!accept(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim())) continue;
    } catch {
      continue;
    }
    const s = processSeconds(entry);
    if (s !== null) seconds.set(entry, s);
  }
  return seconds;
}

/** Busy and total seconds of all cores together, from the first line of /proc/stat. */
export function machine() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  const busy = user + nice + system + irq + softirq + (steal || 0);
  return { busy: busy / ticksPerSecond, steal: (steal || 0) / ticksPerSecond, total: (busy + idle + (iowait || 0)) / ticksPerSecond };
}

// "postgres: USER DATABASE HOST(PORT) STATE" is a client backend; other titles are shared
// background processes (checkpointer, walwriter, …), counted too.
const BACKEND = /^postgres: \S+ (\S+) \S+\(\d+\)/;
const benchPostgres = (database) => (cmdline) => {
  const backend = BACKEND.exec(cmdline);
  return backend === null || backend[1] === database;
};

function snapshot(serverPid, database) {
  return {
    at: process.hrtime.bigint(),
    self: process.cpuUsage(),
    server: processSeconds(serverPid),
    postgres: byCommand('postgres', benchPostgres(database)),
    redis: byCommand('redis-server'),
    machine: machine(),
  };
}

function sumDelta(before, after) {
  let total = 0;
  for (const [pid, end] of after) total += end - (before.get(pid) ?? 0);
  return total;
}

const round = (n) => Math.round(n * 100) / 100;

/** Starts a measurement; `end()` returns the average number of cores each party kept busy. */
export function cpuMeter(serverPid, database) {
  if (!PROC) return { end: () => null };
  const start = snapshot(serverPid, database);
  return {
    end() {
      const stop = snapshot(serverPid, database);
      const wall = Number(stop.at - start.at) / 1e9;
      const self = (stop.self.user - start.self.user + stop.self.system - start.self.system) / 1e6;
      const cores = (seconds) => round(seconds / wall);
      const server = stop.server === null || start.server === null ? 0 : stop.server - start.server;
      const postgres = sumDelta(start.postgres, stop.postgres);
      const redis = sumDelta(start.redis, stop.redis);
      const busy = stop.machine.busy - start.machine.busy;
      return {
        unit: 'cores (average busy cores over the measurement)',
        server: cores(server),
        loadGenerator: cores(self),
        postgres: cores(postgres),
        redis: cores(redis),
        // Everything else on the machine (kernel work not charged to a process, other users' jobs).
        other: cores(Math.max(0, busy - server - self - postgres - redis)),
        machineBusy: cores(busy),
        // Time the hypervisor gave our virtual cores to someone else (part of "other").
        stolen: cores(stop.machine.steal - start.machine.steal),
        machineCores: round((stop.machine.total - start.machine.total) / wall),
      };
    },
  };
}

/** Average busy cores of the whole machine over the next `ms` milliseconds (null off Linux). */
export async function machineBusyCores(ms) {
  if (!PROC) return null;
  const start = machine();
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  return round((machine().busy - start.busy) / wall);
}
