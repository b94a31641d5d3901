import { describe, it, expect } from 'vitest';
import { formatAmount, formatBytes, formatDuration, formatTable, parseBytes } from './format.js';

describe('formatBytes', () => {
  it('prints whole bytes below 1 KiB', () => {
    expect(formatBytes(0)).toBe('0B');
    expect(formatBytes(1)).toBe('1B');
    expect(formatBytes(1023)).toBe('1023B');
  });

  it('switches to binary units with two decimals', () => {
    expect(formatBytes(1024)).toBe('1.00KiB');
    expect(formatBytes(1536)).toBe('1.50KiB');
    expect(formatBytes(512 * 1024 ** 2)).toBe('512.00MiB');
    expect(formatBytes(80 * 1024 ** 3)).toBe('80.00GiB');
    expect(formatBytes(2 * 1024 ** 4)).toBe('2.00TiB');
  });

  it('stays in the largest unit instead of overflowing it', () => {
    expect(formatBytes(2048 * 1024 ** 5)).toBe('2048.00PiB');
  });
});

describe('formatAmount', () => {
  it('prints integers the way Python prints floats', () => {
    expect(formatAmount(6)).toBe('6.0');
    expect(formatAmount(0)).toBe('0.0');
  });

  it('prints fractions without padding', () => {
    expect(formatAmount(0.5)).toBe('0.5');
    expect(formatAmount(1.25)).toBe('1.25');
  });

  it('rounds away float noise to four decimals', () => {
    expect(formatAmount(0.1 + 0.2)).toBe('0.3');
    expect(formatAmount(2.99999999)).toBe('3.0');
  });
});

describe('parseBytes', () => {
  it('understands binary and decimal suffixes', () => {
    expect(parseBytes('128MiB')).toBe(128 * 1024 * 1024);
    expect(parseBytes('2GB')).toBe(2_000_000_000);
    expect(parseBytes('1KiB')).toBe(1024);
    expect(parseBytes('3k')).toBe(3000);
    expect(parseBytes('1.5GiB')).toBe(1.5 * 1024 ** 3);
  });

  it('accepts plain numbers and exponents as bytes', () => {
    expect(parseBytes('1e9')).toBe(1_000_000_000);
    expect(parseBytes('75000000')).toBe(75_000_000);
    expect(parseBytes('10b')).toBe(10);
  });

  it('returns NaN for junk', () => {
    expect(parseBytes('junk')).toBeNaN();
    expect(parseBytes('')).toBeNaN();
    expect(parseBytes('12 parsecs')).toBeNaN();
    expect(parseBytes('-5MiB')).toBeNaN();
  });
});

describe('formatDuration', () => {
  it('uses milliseconds below one second', () => {
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(250)).toBe('250ms');
  });

  it('uses seconds with a decimal below ten seconds', () => {
    expect(formatDuration(1200)).toBe('1.2s');
    expect(formatDuration(42_000)).toBe('42s');
  });

  it('uses two units above a minute', () => {
    expect(formatDuration((3 * 60 + 4) * 1000)).toBe('3m 4s');
    expect(formatDuration((2 * 3600 + 5 * 60) * 1000)).toBe('2h 5m');
    expect(formatDuration((3 * 86400 + 4 * 3600) * 1000)).toBe('3d 4h');
  });
});

describe('formatTable', () => {
  it('pads columns to the widest cell, two spaces apart, without trailing blanks', () => {
    const text = formatTable(['NAME', 'CPU'], [['head-node', '4.0'], ['w', '16.0'], ['x', '']]);
    expect(text.split('\n')).toEqual([
      'NAME       CPU',
      'head-node  4.0',
      'w          16.0',
      'x',
    ]);
  });

  it('prints only the header when there are no rows', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A  B');
  });
});
