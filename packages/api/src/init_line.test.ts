import { describe, expect, it } from 'vitest';
import { initLine } from './init.js';

describe('the line ray.init() prints', () => {
  it('says which cluster it joined, through which node and session', () => {
    expect(initLine({ kind: 'joined', gcsAddress: '10.0.0.5:6379', nodeId: 'abcdef0123456789abcdef', sessionDir: '/tmp/rayts/session_x' }))
      .toBe('Connecting to existing rayts cluster at 10.0.0.5:6379 (node abcdef012345…, session /tmp/rayts/session_x).');
  });

  it('says it started a private local instance, and when that stops', () => {
    expect(initLine({ kind: 'started', gcsAddress: '127.0.0.1:40000', tempDir: '/tmp/rayts-local-1' }))
      .toBe('Started a local rayts instance (head 127.0.0.1:40000, temp dir /tmp/rayts-local-1; it stops with ray.shutdown() or when this process exits).');
  });
});
