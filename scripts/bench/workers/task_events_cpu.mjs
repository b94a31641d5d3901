#!/usr/bin/env node
// The driver of task_events_cost.mjs's CPU accounting: connects to the cluster at <address>, warms up,
// then runs <tasks> no-op tasks in batches of 1000 (as single_client_tasks_async does), waits 1.5 s for
// the last periodic report of task events, and prints, as
// one JSON line, the CPU time (user + system, µs) each process spent meanwhile: this driver, the
// head (rayts-gcs-server), the raylet (rayts-raylet) and its workers, found in /proc by the cluster's
// directory <clusterDir> (the head's and raylet's command lines name it; workers are the raylet's children).
//   node scripts/bench/workers/task_events_cpu.mjs <address> <clusterDir> <tasks>
import { readdirSync, readFileSync } from 'node:fs';
import * as ray from '../../../packages/api/dist/index.js';

const [address, clusterDir, tasksArg] = process.argv.slice(2);
const tasks = Number(tasksArg);
if (!address || !clusterDir || !(Number.isInteger(tasks) && tasks >= 1000)) {
  console.error('usage: task_events_cpu.mjs <address> <clusterDir> <tasks ≥ 1000>');
  process.exit(2);
}
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** pid → { ppid, cpuUs, cmd } of every process readable now. */
function processes() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      // After the name: state ppid … utime (14th field of the line) stime cutime cstime.
      out.set(Number(name), { ppid: Number(f[1]), cpuUs: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_US, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU µs of the cluster's head, raylet and workers now. */
function clusterCpu() {
  const all = processes();
  const sum = { head: 0, raylet: 0, workers: 0 };
  const raylets = new Set();
  for (const [pid, p] of all) {
    if (!p.cmd.includes(clusterDir)) continue;
    if (p.cmd.startsWith('rayts-gcs-server')) sum.head += p.cpuUs;
    else if (p.cmd.startsWith('rayts-raylet')) { sum.raylet += p.cpuUs; raylets.add(pid); }
  }
  for (const p of all.values()) if (raylets.has(p.ppid)) sum.workers += p.cpuUs;
  return sum;
}

const cpuOfSelf = () => { const u = process.cpuUsage(); return u.user + u.system; };

await ray.init({ address });
const noop = ray.remote(() => 0);
const batch = () => ray.get(Array.from({ length: 1000 }, () => noop.remote()));
for (let i = 0; i < 3; i++) await batch();
const before = clusterCpu();
const self0 = cpuOfSelf();
const t0 = performance.now();
for (let done = 0; done < tasks; done += 1000) await batch();
const seconds = (performance.now() - t0) / 1000;
// The events of the last second go with the driver's next periodic report: wait for it (idle otherwise).
await new Promise((r) => setTimeout(r, 1500));
const driverUs = cpuOfSelf() - self0;
const after = clusterCpu();
await ray.shutdown();
const perTask = (us) => us / tasks;
console.log(JSON.stringify({
  tasks, seconds, perSecond: tasks / seconds,
  driver: perTask(driverUs), head: perTask(after.head - before.head), raylet: perTask(after.raylet - before.raylet), workers: perTask(after.workers - before.workers),
}));
