/** OomScoreAdjuster: writes oom_score_adj of each worker; a refusal is logged once. */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { nullLogger, type Logger } from '@rayts/common';
import { OomScoreAdjuster } from './oom_score.js';

describe('OomScoreAdjuster', () => {
  it('sets a real child\'s oom_score_adj', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      new OomScoreAdjuster(1000, nullLogger).adjust(child.pid!);
      expect(readFileSync(`/proc/${child.pid}/oom_score_adj`, 'utf8').trim()).toBe('1000');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('logs a refusal once, and writes nothing for 0', () => {
    const warnings: string[] = [];
    const logger: Logger = { ...nullLogger, warn: (msg) => warnings.push(msg) };
    const writes: string[] = [];
    const refused = new OomScoreAdjuster(1000, logger, (path) => { writes.push(path); throw new Error('EACCES'); });
    refused.adjust(1);
    refused.adjust(2);
    expect(writes).toEqual(['/proc/1/oom_score_adj', '/proc/2/oom_score_adj']);
    expect(warnings).toHaveLength(1);
    const off = new OomScoreAdjuster(0, logger, () => { throw new Error('must not write'); });
    off.adjust(3);
    expect(warnings).toHaveLength(1);
  });
});
