import { describe, expect, it } from 'vitest';
import { resourceShape } from './task_options.js';
import { InvalidResourceRequestError } from './errors.js';

describe('resourceShape and GPUs', () => {
  it('asks for whole GPUs and for fractions below 1', () => {
    expect(resourceShape({ numGpus: 2 })).toEqual({ CPU: 1, GPU: 2 });
    expect(resourceShape({ numGpus: 0.25, numCpus: 0 })).toEqual({ GPU: 0.25 });
    expect(resourceShape({ numGpus: 0 })).toEqual({ CPU: 1 });
  });

  it('refuses a non-whole number of GPUs above 1, saying what to ask for', () => {
    expect(() => resourceShape({ numGpus: 1.5 })).toThrow(InvalidResourceRequestError);
    expect(() => resourceShape({ numGpus: 1.5 })).toThrow(/numGpus above 1 must be a whole number.*got 1\.5.*ask for 2/);
  });
});
