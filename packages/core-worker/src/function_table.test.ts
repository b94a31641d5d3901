import { describe, expect, it } from 'vitest';
import { ClusterUnreachableError, NotFoundError } from '@rayts/common';
import { PatientFunctionTable } from './function_table.js';

function flaky(failures: number, error: () => Error = () => new ClusterUnreachableError('no rayts head answers')) {
  let calls = 0;
  return {
    get calls() { return calls; },
    kvGet: async () => {
      calls += 1;
      if (calls <= failures) throw error();
      return Buffer.from('entry');
    },
  };
}

describe('PatientFunctionTable', () => {
  it('waits through a head that does not answer yet', async () => {
    const gcs = flaky(3);
    const table = new PatientFunctionTable(gcs, 10_000, 1);
    expect((await table.kvGet('fn', 'h'))?.toString()).toBe('entry');
    expect(gcs.calls).toBe(4);
  });

  it('gives up once the head stayed away past its patience', async () => {
    const gcs = flaky(Number.MAX_SAFE_INTEGER);
    await expect(new PatientFunctionTable(gcs, 1000, 1).kvGet('fn', 'h')).rejects.toBeInstanceOf(ClusterUnreachableError);
    expect(gcs.calls).toBeGreaterThan(1);
  });

  it('does not retry other errors', async () => {
    const gcs = flaky(1, () => new NotFoundError('no such key'));
    await expect(new PatientFunctionTable(gcs, 10_000, 1).kvGet('fn', 'h')).rejects.toBeInstanceOf(NotFoundError);
    expect(gcs.calls).toBe(1);
  });
});
