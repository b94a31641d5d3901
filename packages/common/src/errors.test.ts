import { describe, expect, it, vi } from 'vitest';
import { NotFoundError, ObjectStoreFullError, RaytsError, UsageError } from './errors.js';

describe('RaytsError', () => {
  it('is instanceof its own classes and not of its siblings', () => {
    const e = new UsageError('bad flag', 'see --help');
    expect(e).toBeInstanceOf(UsageError);
    expect(e).toBeInstanceOf(RaytsError);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(NotFoundError);
    expect(e.name).toBe('UsageError');
    expect(e.exitCode).toBe(2);
    expect(e.hint).toBe('see --help');
  });

  it('keeps instanceof across two copies of the module', async () => {
    vi.resetModules();
    const copy = await import('./errors.js?second-copy' as string) as typeof import('./errors.js');
    expect(copy.ObjectStoreFullError).not.toBe(ObjectStoreFullError);
    const fromCopy = new copy.ObjectStoreFullError('full');
    expect(fromCopy).toBeInstanceOf(ObjectStoreFullError);
    expect(fromCopy).toBeInstanceOf(RaytsError);
    expect(fromCopy).not.toBeInstanceOf(UsageError);
    expect(new ObjectStoreFullError('full')).toBeInstanceOf(copy.RaytsError);
    expect(new Error('plain')).not.toBeInstanceOf(RaytsError);
    expect(null).not.toBeInstanceOf(RaytsError);
  });
});
