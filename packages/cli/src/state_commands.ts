/**
 * The commands that read the cluster through the head's HTTP API (Ray's state CLI): `list`, `get`,
 * `summary`, `timeline` and `logs` (a node's files, or an actor's, task's, worker's or job's output).
 */
import { Command } from 'commander';
import { loadConfig } from '@rayts/common';
import { listCommand, getCommand, summaryCommand, LIST_RESOURCES, type StateOptions } from './commands/state.js';
import { timelineCommand } from './commands/timeline.js';
import { entityLogsCommand, type EntityLogOptions } from './commands/entity_logs.js';
import { logsCommand } from './commands/logs.js';
import { connectStateApi } from './state_api.js';
import type { TargetOptions } from './discovery.js';
import { choiceOption, envOption } from './options.js';
import { FORMATS } from './state_format.js';

export type Run = <A extends unknown[]>(fn: (...args: A) => Promise<number> | number) => (...args: A) => Promise<void>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options that say which cluster's API to talk to (every API command takes them). */
export function targetOptions(cmd: Command): Command {
  return cmd
    .addOption(envOption('--address <address>', 'the head: its API URL (http://HOST:8265), its GCS address HOST:PORT, or auto: the cluster this host runs (default: this host\'s session)',
      'RAYTS_API_SERVER_ADDRESS', 'RAYTS_ADDRESS'))
    .option('--temp-dir <dir>', 'find the local session under this temp dir')
    .addOption(envOption('--token-file <file>', 'cluster token file (default: the local session\'s)', 'RAYTS_TOKEN', 'RAYTS_TOKEN_FILE'));
}

function queryOptions(cmd: Command): Command {
  return cmd
    .option('-f, --filter <key=value>', 'keep rows whose field equals (key=value) or differs from (key!=value) the value; repeatable, ANDed', collect)
    .option('--limit <n>', 'at most this many rows (default 100, at most 10000)')
    .option('--detail', 'every field (the default format becomes yaml)')
    .addOption(choiceOption('--format <format>', 'output format', FORMATS, 'default'))
    .option('--json', 'same as --format=json')
    .option('--timeout <seconds>', 'how long to wait for the nodes (default 30)');
}

const api = (opts: TargetOptions) => connectStateApi(opts, loadConfig());

export function addStateCommands(program: Command, run: Run): void {
  queryOptions(targetOptions(program.command('list')
    .description('list the cluster\'s actors, jobs, placement-groups, nodes, workers, tasks or objects')
    .argument('<resource>', LIST_RESOURCES.join(', '))))
    .action(run(async (resource: string, opts: StateOptions & TargetOptions) => listCommand(resource, opts, await api(opts))));

  targetOptions(program.command('get')
    .description('print one actor, placement-group, node, worker, task or object with every field (yaml)')
    .argument('<resource>', 'actors, placement-groups, nodes, workers, tasks or objects')
    .argument('[id]', 'its id (from `rayts list`)')
    .addOption(choiceOption('--format <format>', 'output format', ['yaml', 'json'], 'yaml'))
    .option('--json', 'same as --format=json')
    .option('--timeout <seconds>', 'how long to wait for the nodes (default 30)'))
    .action(run(async (resource: string, id: string | undefined, opts: StateOptions & TargetOptions) => getCommand(resource, id, { ...opts, format: opts.format === 'yaml' ? 'default' : opts.format }, await api(opts))));

  queryOptions(targetOptions(program.command('summary')
    .description('counts of tasks (per function), actors (per class) or objects (per call site) by state')
    .argument('<resource>', 'tasks, actors or objects')))
    .action(run(async (resource: string, opts: StateOptions & TargetOptions) => summaryCommand(resource, opts, await api(opts))));

  targetOptions(program.command('timeline')
    .description('write the task timeline as a Chrome trace (open it in chrome://tracing or Perfetto)')
    .option('--output <file>', 'where to write it (default <temp-dir>/rayts-timeline-<date>.json)')
    .option('--job-id <id>', 'only this job\'s tasks'))
    .action(run(async (opts: { output?: string; jobId?: string } & TargetOptions) => {
      const config = loadConfig();
      return timelineCommand(opts, opts.tempDir ?? config.tmpDir, await api(opts));
    }));

  const logs = program.command('logs')
    .description('print a node\'s log files, or the output of an actor, task, worker or job');
  targetOptions(logs.command('cluster', { isDefault: true })
    .description('list a node\'s log files, or print / follow the one matching GLOB (the default)')
    .argument('[glob]', 'file name or glob, e.g. raylet.log or "worker-*.err"')
    .option('--node-id <id>', 'node id (or a unique prefix)')
    .option('--node-ip <ip>', 'node IP (default: the head node)')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <n>', 'print the last N lines (-1 = whole file)', '1000')
    .option('--json', 'print the listing as JSON'))
    .action(run((glob, opts) => logsCommand(glob, opts, loadConfig())));
  const entity = (name: 'actor' | 'task' | 'worker' | 'job', description: string, configure: (c: Command) => Command) =>
    targetOptions(configure(logs.command(name).description(description))
      .option('--err', 'the standard error instead of the standard output')
      .option('-f, --follow', 'keep printing new lines')
      .option('--tail <n>', 'the last N lines (-1 = whole file; a task shows all of its own lines)', '1000'))
      .action(run(async (opts: EntityLogOptions & TargetOptions) => entityLogsCommand(name, opts, await api(opts))));
  entity('actor', 'what an actor printed (its worker\'s output)', (c) => c.option('--id <id>', 'actor id (`rayts list actors`)'));
  entity('task', 'what one task attempt printed', (c) => c.option('--id <id>', 'task id (`rayts list tasks`)').option('--attempt <n>', 'attempt number (default: the latest)'));
  entity('worker', 'a worker process\'s output', (c) => c.option('--pid <pid>', 'the worker\'s pid').option('--node-ip <ip>', 'its node\'s IP').option('--node-id <id>', 'its node\'s id'));
  entity('job', 'a job\'s driver output', (c) => c.option('--id <id>', 'job id (`rayts list jobs`)'));
}
