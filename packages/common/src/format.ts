/** Human formatting shared by the CLI and the dashboard. */

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Binary units with two decimals, as `ray status` prints memory: 0B, 512.00MiB, 80.00GiB. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  for (const unit of BINARY_UNITS) {
    if (Math.abs(value) < 1024 || unit === BINARY_UNITS[BINARY_UNITS.length - 1]) {
      return unit === 'B' ? `${Math.round(value)}B` : `${value.toFixed(2)}${unit}`;
    }
    value /= 1024;
  }
  return `${bytes}B`;
}

/** A resource amount the way Python prints a float: 6.0, 0.5, 1.25. */
export function formatAmount(value: number): string {
  const rounded = Math.round(value * 10000) / 10000;
  return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
}

/** 1.2s, 3m 4s, 2h 5m, 3d 4h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Local wall-clock time as `YYYY-MM-DD HH:MM:SS.ffffff` (the `ray status` header format). */
export function formatTimestamp(date: Date, withMicros = true): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
  return withMicros ? `${base}.${p(date.getMilliseconds() * 1000, 6)}` : base;
}

/** Parses sizes such as 128MiB, 2GB, 1e9, 75000000 into bytes. */
export function parseBytes(text: string): number {
  const match = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]i?b?|b)?\s*$/i.exec(text);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  const unit = (match[2] ?? 'b').toLowerCase();
  const powers: Record<string, number> = { k: 1, m: 2, g: 3, t: 4 };
  if (unit === 'b') return Math.floor(value);
  const base = unit.includes('i') ? 1024 : 1000;
  return Math.floor(value * base ** powers[unit[0]!]!);
}

/** Fixed-width table with a header row; columns separated by two spaces. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
