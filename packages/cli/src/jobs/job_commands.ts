/**
 * `rayts job submit|status|logs|stop|list|delete` (Ray's `ray job`), clients of the head's jobs API.
 * The API is found as for the state commands (--address, RAYTS_API_SERVER_ADDRESS, RAYTS_ADDRESS,
 * then this host's cluster); flags are checked before anything is sent.
 */
import { tmpdir } from 'node:os';
import { Option, type Command } from 'commander';
import { loadConfig } from '@rayts/common';
import { apiClientFor, resolveApiTarget } from '../api_target.js';
import type { TargetOptions } from '../discovery.js';
import { targetOptions, type Run } from '../state_commands.js';
import { JobsClient } from './job_client.js';
import { ConsoleOutput } from './job_output.js';
import { serverAddressLine } from './job_format.js';
import { deleteJob, jobLogs, jobStatus, listJobs, stopJob, submitJob, type JobContext } from './job_actions.js';
import { planSubmission, type SubmitFlags } from './submit_options.js';

/** Ray polls a stopping job's status every second. */
const POLL_MS = 1000;

function onInterrupt(handler: () => void): () => void {
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Finds the API, prints its address (Ray's first line; not with --json) and makes the context. */
async function connect(options: TargetOptions, json = false): Promise<JobContext> {
  const config = loadConfig();
  const client = new JobsClient(apiClientFor(await resolveApiTarget(options, config), config));
  const output = new ConsoleOutput(json);
  if (!json) output.lines([serverAddressLine(client.address, (s) => output.color(s))]);
  return { client, output, pollMs: POLL_MS, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), onInterrupt };
}

type Flags = TargetOptions & { json?: boolean };

export function addJobCommands(program: Command, run: Run): void {
  const job = program.command('job')
    .description('submit, follow, stop, list and delete jobs (a driver program the cluster runs for you, with its working_dir)');

  targetOptions(job.command('submit')
    .description('submit a job and follow its log until it exits (exit 1 if it fails)')
    .usage('[options] -- <entrypoint...>')
    .argument('[entrypoint...]', 'the command that runs the job, after --, e.g. -- node main.mjs --rounds 3')
    .option('--working-dir <dir>', 'directory packed and sent to every node of the job; its cwd and import base (overrides the runtime env\'s)')
    .option('--runtime-env <file>', 'runtime env as YAML or JSON (working_dir, excludes, env_vars, npm); a relative working_dir is relative to the file')
    .option('--runtime-env-json <json>', 'runtime env as JSON, e.g. \'{"env_vars": {"MODE": "fast"}}\'')
    .option('--submission-id <id>', 'the job\'s id (default: raysubmit_ and 16 random characters)')
    .addOption(new Option('--job-id <id>', 'deprecated name of --submission-id').hideHelp())
    .option('--metadata-json <json>', 'metadata to attach, a JSON object of strings')
    .option('--entrypoint-num-cpus <n>', 'CPUs reserved for the entrypoint (default 0)')
    .option('--entrypoint-num-gpus <n>', 'GPUs reserved for the entrypoint (default 0)')
    .option('--entrypoint-memory <bytes>', 'memory reserved for the entrypoint, e.g. 2GiB (default 0)')
    .option('--entrypoint-resources <json>', 'custom resources reserved for the entrypoint, e.g. \'{"ssd": 1}\'')
    .option('--no-wait', 'return once the job is submitted instead of following its log'))
    .action(run(async (entrypoint: string[], opts: SubmitFlags & TargetOptions) => {
      const plan = planSubmission(entrypoint, opts, process.cwd());
      return submitJob(plan, await connect(opts), tmpdir());
    }));

  targetOptions(job.command('status')
    .description('print a job\'s status (and its message)')
    .argument('<id>', 'submission id (or the driver\'s job id)')
    .option('--json', 'print the job\'s details as JSON'))
    .action(run(async (id: string, opts: Flags) => jobStatus(id, !!opts.json, await connect(opts, !!opts.json))));

  targetOptions(job.command('logs')
    .description('print a job\'s log (its driver\'s output)')
    .argument('<id>', 'submission id')
    .option('-f, --follow', 'keep printing until the job exits'))
    .action(run(async (id: string, opts: Flags & { follow?: boolean }) => jobLogs(id, !!opts.follow, await connect(opts))));

  targetOptions(job.command('stop')
    .description('stop a job (SIGTERM to its driver\'s process group, SIGKILL after RAYTS_JOB_STOP_GRACE_MS) and wait until it exited')
    .argument('<id>', 'submission id')
    .option('--no-wait', 'return once the stop was asked for'))
    .action(run(async (id: string, opts: Flags & { wait?: boolean }) => stopJob(id, opts.wait !== false, await connect(opts))));

  targetOptions(job.command('list')
    .description('list the jobs the head keeps, oldest first')
    .option('--json', 'print every job\'s details as JSON'))
    .action(run(async (opts: Flags) => listJobs(!!opts.json, await connect(opts, !!opts.json))));

  targetOptions(job.command('delete')
    .description('delete a finished job\'s record (and its package when no other job uses it)')
    .argument('<id>', 'submission id'))
    .action(run(async (id: string, opts: Flags) => deleteJob(id, await connect(opts))));
}
