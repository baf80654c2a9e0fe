'use strict';
/**
 * The machine and its processes: CPU time per process from /proc/<pid>/stat, machine-wide
 * busy time from /proc/stat (to see how much of the machine others used during a phase),
 * and the versions of everything involved.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, or null when it is gone. */
function cpuSeconds(pid) {
  if (Array.isArray(pid)) {
    // Several processes of one service: their sum (null if none is readable).
    const each = pid.map(cpuSeconds).filter((v) => v != null);
    return each.length ? each.reduce((a, b) => a + b, 0) : null;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / TICKS;
  } catch {
    return null;
  }
}

/** Resident memory of a process in bytes, or null. */
function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Machine-wide CPU seconds: busy (all but idle and iowait) and total, summed over cores. */
function machineCpu() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  return { busy: busy / TICKS, total: (busy + idle + iowait) / TICKS };
}

/**
 * Tracks CPU of named processes between `start()` and `stop()`: per process the CPU
 * seconds used and the average share of one core, plus what the rest of the machine
 * (other users of this shared box) used meanwhile.
 */
function cpuMeter(pids) {
  let t0 = 0;
  let m0 = null;
  const c0 = new Map();
  return {
    start() {
      t0 = Date.now();
      m0 = machineCpu();
      for (const [name, pid] of Object.entries(pids())) c0.set(name, cpuSeconds(pid));
    },
    stop() {
      const wall = (Date.now() - t0) / 1000;
      const m1 = machineCpu();
      const out = {};
      let ours = 0;
      for (const [name, pid] of Object.entries(pids())) {
        const a = c0.get(name);
        const b = cpuSeconds(pid);
        if (a == null || b == null) continue;
        out[name] = { cpu_s: round(b - a, 2), cores: round((b - a) / wall, 2) };
        ours += b - a;
      }
      const busy = m1.busy - m0.busy;
      return {
        wall_s: round(wall, 2),
        processes: out,
        machine_busy_cores: round(busy / wall, 2),
        // CPU used by processes outside this benchmark (other engineers' tests on a shared box).
        other_cores: round(Math.max(0, busy - ours) / wall, 2),
      };
    },
  };
}

function round(x, digits = 0) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Pids of the native stack's servers (from .stack/pids), where known. */
function stackPids() {
  const dir = path.join(process.env.LABELSTREAM_STACK_DIR || path.join(ROOT, '.stack'), 'pids');
  const out = {};
  for (const name of ['kafka', 'redis', 'registry']) {
    try {
      // "<pid> <start time>"
      const pid = Number(fs.readFileSync(path.join(dir, `${name}.pid`), 'utf8').trim().split(/\s+/)[0]);
      if (pid && cpuSeconds(pid) !== null) out[name] = pid;
    } catch {
      /* not a native stack (external servers): no CPU figures for it */
    }
  }
  return out;
}

function loadAverage() {
  return os.loadavg().map((x) => round(x, 2));
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function packageVersion(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The machine (cores, memory, CPU model, kernel) and load when called. */
function machineInfo() {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cores: cpus.length,
    cpu_model: cpus[0]?.model,
    memory_bytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    load_average: loadAverage(),
  };
}

/** Versions of Node, the clients, the servers of the stack and Labelstream itself. */
function versions(stack, redisVersion) {
  const kafkaCmd = stack.kafka ? cmdline(stack.kafka) : '';
  const registryCmd = stack.registry ? cmdline(stack.registry) : '';
  const status = git(['status', '--porcelain', '--', 'packages', 'services']);
  return {
    node: process.version,
    kafkajs: packageVersion(path.dirname(require.resolve('kafkajs'))) ?? packageVersion(path.join(ROOT, 'node_modules', 'kafkajs')),
    ioredis: packageVersion(path.join(ROOT, 'node_modules', 'ioredis')),
    kafka: /kafka-(\d+\.\d+\.\d+)/.exec(kafkaCmd)?.[1],
    schema_registry: /apicurio-registry-(?:app-)?(\d+\.\d+\.\d+)/.exec(registryCmd)?.[1] ? `apicurio ${/apicurio-registry-(?:app-)?(\d+\.\d+\.\d+)/.exec(registryCmd)[1]}` : undefined,
    redis: redisVersion,
    labelstream_commit: git(['rev-parse', '--short', 'HEAD']),
    labelstream_dirty: status === undefined ? undefined : status.length > 0,
  };
}

module.exports = { cpuSeconds, rssBytes, cpuMeter, stackPids, machineInfo, versions, loadAverage, round, ROOT };
