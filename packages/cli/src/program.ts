/** The `rayts` command line (commander). Every command returns its exit code. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { RAYTS_VERSION, UsageError, loadConfig, parseBoolean } from '@rayts/common';
import { applyConfigEnv, applyStartDefaults, readConfigFile } from './config_file.js';
import { startCommand } from './commands/start.js';
import { stopCommand } from './commands/stop.js';
import { statusCommand } from './commands/status.js';
import { addStateCommands } from './state_commands.js';
import { addJobCommands } from './jobs/job_commands.js';
import { getAuthTokenCommand } from './commands/get_auth_token.js';
import { microbenchmarkCommand } from './commands/microbenchmark.js';
import { memoryCommand } from './commands/memory.js';
import { choiceOption, envOption, gcsTargetOptions } from './options.js';
import { doctorCommand } from './doctor/command.js';

export type ExitSetter = (code: number) => void;

/** A `<true|false>` option value (also 1/0, yes/no, on/off); anything else is a usage error (exit 2). */
function booleanFlag(flag: string): (value: string) => boolean {
  return (value) => {
    try {
      return parseBoolean(value, flag);
    } catch {
      throw new InvalidArgumentError('expected true or false.');
    }
  };
}

export function buildProgram(setExit: ExitSetter): Command {
  const program = new Command('rayts')
    .description('Ray\'s cluster runtime for Node.js: start, join, inspect and stop rayts nodes')
    .version(RAYTS_VERSION, '--version', 'print the rayts version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    // Set before the subcommands are added so they inherit it: usage errors become exit code 2.
    .exitOverride();
  const run = <A extends unknown[]>(fn: (...args: A) => Promise<number> | number) =>
    async (...args: A) => setExit(await fn(...args));

  program.command('start')
    .description('start a head node (--head) or join a cluster (--address HOST:PORT)')
    .option('--head', 'start the head: cluster state (GCS on SQLite) and a raylet')
    .option('--address <host:port>', 'join the cluster whose head listens at HOST:PORT (auto: the cluster this host runs, with its token)')
    .option('--port <port>', 'head only: GCS port (default 6379; 0 = pick a free one)')
    .option('--node-ip-address <ip>', 'address other nodes use for this one (default: detected)')
    .addOption(envOption('--temp-dir <dir>', 'root for session dirs and head state (default /tmp/rayts)', 'RAYTS_TMPDIR'))
    .option('--state-dir <dir>', 'head only: where gcs.db and the token live (default <temp-dir>/state)')
    .option('--dashboard-host <ip>', 'head only: address the dashboard / HTTP API binds (default 127.0.0.1; 0.0.0.0 = every interface)')
    .option('--dashboard-port <port>', 'head only: dashboard / HTTP API port (default 8265; 0 = pick a free one)')
    .addOption(new Option('--ray-client-server-port <port>', 'head only: port remote drivers connect to, ray.init(\'rayts://HOST:PORT\') (default 10001; 0 = pick a free one)')
      .env('RAYTS_RAY_CLIENT_SERVER_PORT'))
    .addOption(new Option('--include-dashboard <true|false>', 'head only: run the dashboard / HTTP API (default true; choices: true, false)').argParser(booleanFlag('--include-dashboard')))
    .option('--num-cpus <n>', 'CPUs this node offers (default: detected)')
    .option('--num-gpus <n>', 'GPUs this node offers (default: detected)')
    .option('--memory <bytes>', 'memory resource (default: available memory minus the object store)')
    .option('--object-store-memory <bytes>', 'object store size, e.g. 2GiB (default 30% of available memory)')
    .addOption(new Option('--object-store-huge-pages <mode>', 'object store pages: auto (reserved huge pages, else transparent huge pages, else 4 KiB), on (a huge-page mode or fail), off (default auto; choices: auto, on, off)')
      .env('RAYTS_OBJECT_STORE_HUGE_PAGES'))
    .option('--object-spilling-directory <dir>', 'where objects spill when the store is 80% full (default <session>/spill)')
    .option('--resources <json>', 'custom resources as a JSON object, e.g. \'{"ssd": 1}\'', '{}')
    .option('--labels <k=v,...>', 'node labels, e.g. zone=eu-1,disk=ssd')
    .option('--node-manager-port <port>', 'raylet gRPC port (default 0 = any)', '0')
    .option('--metrics-export-port <port>', 'raylet Prometheus endpoint port, GET /metrics (default 0 = any)', '0')
    .option('--metrics-auth <true|false>', 'whether scrapes of /metrics must present the cluster token (choices: true, false)', 'true')
    .addOption(envOption('--token-file <file>', 'joining nodes: file holding the cluster token', 'RAYTS_TOKEN', 'RAYTS_TOKEN_FILE'))
    .option('--block', 'stay in the foreground supervising the daemons (for systemd)')
    .addOption(envOption('--log-to-stderr', 'daemons also write their log lines to stderr; with --block they pass through this command\'s, so journald has them', 'RAYTS_LOG_TO_STDERR=1'))
    .addOption(new Option('--tls-cert <file>', 'mutual TLS: this node\'s certificate (PEM)').env('RAYTS_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'mutual TLS: this node\'s private key (PEM)').env('RAYTS_TLS_KEY'))
    .addOption(new Option('--tls-ca <file>', 'mutual TLS: CA that signed every node\'s certificate').env('RAYTS_TLS_CA'))
    .addOption(new Option('--cleanup-temp-dir', 'with --block: delete --temp-dir when the node stops (private driver clusters)').hideHelp())
    .addOption(new Option('--watch-pid <pid>', 'with --block: stop everything when this process exits (drivers use it)').hideHelp())
    .addOption(new Option('--unlisted', 'keep the node out of the host\'s record of clusters, so other users do not see it (private driver clusters)').hideHelp())
    .option('--config <file>', 'YAML defaults for these flags and RAYTS_* tunables (default /etc/rayts/config.yaml if present)')
    .action(run((opts, cmd: Command) => {
      const file = readConfigFile(opts.config);
      const known = new Set(cmd.options.map((o) => o.attributeName()));
      for (const key of Object.keys(file.start)) {
        const name = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
        if (!known.has(name) || name === 'config') throw new UsageError(`the config file sets an unknown start option '${key}'`, 'use the long flag names of `rayts start --help`, without the dashes');
      }
      applyConfigEnv(file);
      const merged = applyStartDefaults(file, opts, (name) => cmd.getOptionValueSource(name) === 'cli');
      // Daemons read TLS files from the environment they inherit.
      if (merged.tlsCert) process.env.RAYTS_TLS_CERT = merged.tlsCert;
      if (merged.tlsKey) process.env.RAYTS_TLS_KEY = merged.tlsKey;
      if (merged.tlsCa) process.env.RAYTS_TLS_CA = merged.tlsCa;
      if (merged.logToStderr) process.env.RAYTS_LOG_TO_STDERR = '1';
      // The raylet reads it from the environment it inherits (the tunable of the same name).
      if (merged.objectStoreHugePages) process.env.RAYTS_OBJECT_STORE_HUGE_PAGES = merged.objectStoreHugePages;
      return startCommand(merged, loadConfig());
    }));

  program.command('stop')
    .description('stop the rayts processes this host\'s sessions started (raylet first, head last)')
    .option('-f, --force', 'SIGKILL at once instead of SIGTERM')
    .addOption(envOption('-g, --grace-period <seconds>', 'seconds to wait after SIGTERM before SIGKILL (default 16)', 'RAYTS_STOP_GRACE_PERIOD_S'))
    .option('--address <host:port>', 'stop only the cluster whose head is at HOST:PORT, even another user\'s (needs root); auto: the one cluster this host runs')
    .option('--all-users', 'also stop the clusters other users run on this host (needs root)')
    .option('--temp-dir <dir>', 'stop only the sessions under this temp dir')
    .action(run((opts) => stopCommand(opts, loadConfig())));

  const status = program.command('status')
    .description('show the cluster: active and failed nodes, resource usage, pending demands')
    .option('--json', 'print JSON')
    .option('-v, --verbose', 'per-node details')
    .action(run((opts) => statusCommand(opts, loadConfig())));
  for (const o of gcsTargetOptions()) status.addOption(o);

  const memory = program.command('memory')
    .description('object references of every process on every node, and object store usage')
    .addOption(choiceOption('--group-by <by>', 'group the references', ['node', 'stack-trace'], 'node'))
    .addOption(choiceOption('--sort-by <by>', 'order within a group', ['object-size', 'pid', 'reference-type'], 'object-size'))
    .addOption(choiceOption('--units <unit>', 'unit of sizes', ['B', 'KB', 'MB', 'GB'], 'B'))
    .option('--stats-only', 'only the aggregate object store figures')
    .option('--json', 'print JSON')
    .action(run((opts) => memoryCommand(opts, loadConfig())));
  for (const o of gcsTargetOptions()) memory.addOption(o);

  const doctor = program.command('doctor')
    .description('check this host and every node: versions, clocks, ports, /dev/shm, limits, disk, token, systemd (exit 1 on a failed check)')
    .option('--json', 'print JSON')
    .action(run((opts) => doctorCommand(opts, loadConfig())));
  for (const o of gcsTargetOptions()) doctor.addOption(o);

  addStateCommands(program, run);
  addJobCommands(program, run);

  program.command('microbenchmark')
    .description('run Ray\'s task and object microbenchmarks (name per second X +- Y)')
    .argument('[filter]', 'run only cases whose name contains this')
    .addOption(envOption('--address <host:port>', 'benchmark this cluster instead of a private local one (auto: the one this host runs)', 'RAYTS_ADDRESS'))
    .option('--json', 'print JSON')
    .addOption(new Option('--round-ms <ms>', 'length of one timing round (default 2000)').hideHelp())
    .addOption(new Option('--rounds <n>', 'timing rounds (default 4)').hideHelp())
    .action(run((filter, opts) => microbenchmarkCommand(filter, opts)));

  program.command('get-auth-token')
    .description('print this host\'s cluster token (to copy it to joining nodes)')
    .addOption(envOption('--temp-dir <dir>', 'temp dir of the cluster', 'RAYTS_TMPDIR'))
    .action(run((opts) => getAuthTokenCommand(opts, loadConfig())));

  // Hidden, as in Ray; commander takes it before or after the subcommand. Output decides colour by
  // NO_COLOR (output.ts), which the processes this command starts inherit too.
  program.addOption(new Option('--no-color', 'disable colours').hideHelp());
  // The default config file's tunables apply to every command (start also takes --config).
  program.hook('preAction', (root, action) => {
    if (root.opts().color === false) process.env.NO_COLOR = '1';
    if (action.name() !== 'start') applyConfigEnv(readConfigFile(undefined));
  });
  return program;
}
