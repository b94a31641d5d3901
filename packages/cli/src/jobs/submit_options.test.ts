/** `rayts job submit`'s flags: what is refused before any request (exit 2, naming the flag) and what is sent. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, packageUri } from '@rayts/common';
import { planSubmission, shellJoin, submitBody, type SubmitFlags } from './submit_options.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rayts-submit-options-'));
  mkdirSync(join(dir, 'app'));
  mkdirSync(join(dir, 'conf', 'proj'), { recursive: true });
  writeFileSync(join(dir, 'file.txt'), 'x');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plan = (flags: SubmitFlags, entrypoint = ['node', 'main.mjs']) => planSubmission(entrypoint, flags, dir);

function refused(flags: SubmitFlags, message: RegExp, entrypoint = ['node', 'main.mjs']): UsageError {
  let caught: unknown;
  try {
    planSubmission(entrypoint, flags, dir);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UsageError);
  expect((caught as UsageError).exitCode).toBe(2);
  expect((caught as Error).message).toMatch(message);
  return caught as UsageError;
}

describe('the entrypoint', () => {
  it('several words are joined for the shell, quoting what needs it; one word is the command line itself', () => {
    expect(shellJoin(['node', 'main.mjs', '--rounds=3'])).toBe('node main.mjs --rounds=3');
    expect(shellJoin(['node', 'main.mjs', 'two words', "it's", ''])).toBe(`node main.mjs 'two words' 'it'"'"'s' ''`);
    expect(shellJoin(['node main.mjs && echo done'])).toBe('node main.mjs && echo done');
    expect(plan({}).entrypoint).toBe('node main.mjs');
  });

  it('none, or only blanks, is a usage error with an example', () => {
    expect(refused({}, /^no entrypoint: give the command that runs the job after --$/, []).hint).toMatch(/rayts job submit .* -- node main\.mjs/);
    refused({}, /^no entrypoint/, ['  ']);
  });
});

describe('the runtime env', () => {
  it('--runtime-env-json: checked by the runtime env rules, relative working_dir against the current directory', () => {
    const p = plan({ runtimeEnvJson: '{"working_dir": "app", "env_vars": {"A": "1"}, "excludes": ["*.log"]}' });
    expect(p.runtimeEnv).toEqual({ working_dir: join(dir, 'app'), env_vars: { A: '1' }, excludes: ['*.log'] });
    expect(p.workingDir).toEqual({ path: join(dir, 'app'), shown: 'app' });
  });

  it('malformed --runtime-env-json names the flag', () => {
    refused({ runtimeEnvJson: '{nope' }, /^--runtime-env-json is not valid JSON/);
    refused({ runtimeEnvJson: '[1]' }, /^--runtime-env-json must be a JSON object/);
    refused({ runtimeEnvJson: '{"pip": ["x"]}' }, /^--runtime-env-json: runtime_env\.pip: is a Python environment field/);
    refused({ runtimeEnvJson: '{"env_vars": {"A": 1}}' }, /^--runtime-env-json: runtime_env\.env_vars\.A: must be a string/);
  });

  it('--runtime-env FILE: YAML or JSON; a relative working_dir is relative to the file\'s folder', () => {
    writeFileSync(join(dir, 'conf', 'env.yaml'), 'working_dir: ./proj\nenv_vars:\n  MODE: fast\nnpm: false\n');
    const yaml = plan({ runtimeEnv: 'conf/env.yaml' });
    expect(yaml.runtimeEnv).toEqual({ working_dir: join(dir, 'conf', 'proj'), env_vars: { MODE: 'fast' }, npm: false });
    expect(yaml.workingDir).toEqual({ path: join(dir, 'conf', 'proj'), shown: './proj' });
    writeFileSync(join(dir, 'conf', 'env.json'), '{"env_vars": {"MODE": "slow"}}');
    expect(plan({ runtimeEnv: 'conf/env.json' }).runtimeEnv).toEqual({ env_vars: { MODE: 'slow' } });
  });

  it('--working-dir overrides the file\'s working_dir and resolves against the current directory', () => {
    writeFileSync(join(dir, 'conf', 'env.yaml'), 'working_dir: ./proj\n');
    const p = plan({ runtimeEnv: 'conf/env.yaml', workingDir: 'app' });
    expect(p.runtimeEnv.working_dir).toBe(join(dir, 'app'));
    expect(p.workingDir).toEqual({ path: join(dir, 'app'), shown: 'app' });
  });

  it('a package URI is kept as it is (nothing to upload)', () => {
    const uri = packageUri('ab'.repeat(32));
    const p = plan({ workingDir: uri });
    expect(p.runtimeEnv.working_dir).toBe(uri);
    expect(p.workingDir).toBeUndefined();
    expect(submitBody(p).runtime_env).toEqual({ working_dir: uri });
  });

  it('refusals: both env flags, an unreadable or malformed file, a working_dir that is missing or a file', () => {
    refused({ runtimeEnv: 'x.yaml', runtimeEnvJson: '{}' }, /^give either --runtime-env or --runtime-env-json, not both$/);
    refused({ runtimeEnv: 'missing.yaml' }, /^--runtime-env missing\.yaml: cannot read the file \(ENOENT\)$/);
    writeFileSync(join(dir, 'bad.yaml'), 'env_vars: [unclosed\n');
    refused({ runtimeEnv: 'bad.yaml' }, /^--runtime-env bad\.yaml: not YAML or JSON/);
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
    refused({ runtimeEnv: 'list.yaml' }, /^--runtime-env list\.yaml: runtime_env\.\(root\): must be an object/);
    refused({ workingDir: 'nope' }, /^--working-dir: '.*\/nope' does not exist$/);
    expect(refused({ workingDir: 'file.txt' }, /^--working-dir: '.*\/file\.txt' is not a directory$/).hint).toContain('not a file');
    refused({ workingDir: ' ' }, /^--working-dir is empty$/);
    writeFileSync(join(dir, 'conf', 'gone.yaml'), 'working_dir: ./gone\n');
    refused({ runtimeEnv: 'conf/gone.yaml' }, /^--runtime-env conf\/gone\.yaml working_dir: '.*\/conf\/gone' does not exist$/);
  });
});

describe('metadata, resources, ids', () => {
  it('are sent in Ray\'s field names; defaults are left to the head', () => {
    const p = plan({
      submissionId: 'nightly-1', metadataJson: '{"owner": "ops"}', entrypointNumCpus: '0.5', entrypointNumGpus: '1',
      entrypointMemory: '2GiB', entrypointResources: '{"ssd": 1}',
    });
    expect(submitBody(p)).toEqual({
      entrypoint: 'node main.mjs', submission_id: 'nightly-1', metadata: { owner: 'ops' }, entrypoint_num_cpus: 0.5,
      entrypoint_num_gpus: 1, entrypoint_memory: 2 * 1024 ** 3, entrypoint_resources: { ssd: 1 },
    });
    expect(submitBody(plan({}))).toEqual({ entrypoint: 'node main.mjs' });
    expect(plan({}).wait).toBe(true);
    expect(plan({ wait: false }).wait).toBe(false);
  });

  it('the uploaded working_dir replaces the local path in the body', () => {
    const uri = packageUri('cd'.repeat(32));
    expect(submitBody(plan({ workingDir: 'app', runtimeEnvJson: '{"env_vars": {"A": "1"}}' }), uri).runtime_env).toEqual({ working_dir: uri, env_vars: { A: '1' } });
  });

  it('malformed values name their flag', () => {
    refused({ metadataJson: '{' }, /^--metadata-json is not valid JSON/);
    refused({ metadataJson: '{"n": 1}' }, /^--metadata-json: 'n' must be a string, got 1$/);
    refused({ entrypointResources: 'ssd=1' }, /^--entrypoint-resources is not valid JSON/);
    refused({ entrypointResources: '{"ssd": "x"}' }, /^--entrypoint-resources: 'ssd' must be a number ≥ 0/);
    refused({ entrypointResources: '{"CPU": 2}' }, /^--entrypoint-resources names CPU: use --entrypoint-num-cpus for it$/);
    refused({ entrypointNumCpus: '-1' }, /^--entrypoint-num-cpus must be a number ≥ 0, got '-1'$/);
    refused({ entrypointNumGpus: 'two' }, /^--entrypoint-num-gpus must be a number ≥ 0, got 'two'$/);
    refused({ entrypointMemory: 'lots' }, /^--entrypoint-memory must be a number of bytes, got 'lots'$/);
    refused({ submissionId: 'a/b' }, /^--submission-id: 'a\/b' is not a submission id/);
  });

  it('--job-id is the deprecated name of --submission-id: a warning, and a conflict is refused', () => {
    const p = plan({ jobId: 'legacy' });
    expect(p.submissionId).toBe('legacy');
    expect(p.warnings).toEqual(['--job-id is deprecated: use --submission-id']);
    refused({ jobId: 'a', submissionId: 'b' }, /^--job-id and --submission-id differ$/);
  });
});
