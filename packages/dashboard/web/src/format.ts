/** Human formatting for the page: bytes, durations, times, resource amounts. */

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function time(ms: number | null | undefined): string {
  if (!ms) return '—';
  const d = new Date(ms);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A resource amount: memory-like resources in bytes, others as numbers. */
export function amount(resource: string, n: number): string {
  if (resource === 'memory' || resource === 'object_store_memory') return bytes(n);
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/**
 * An id shortened for tables: its head and its tail (task ids share their job's prefix and differ at
 * the end), the whole id being in the link's title and accessible name.
 */
export function shortId(id: string | null | undefined, n = 8): string {
  if (!id) return '—';
  if (id.length <= n + 1) return id;
  const head = Math.ceil(n / 2);
  return `${id.slice(0, head)}…${id.slice(-(n - head))}`;
}

export function used(total: Record<string, number> | null | undefined, available: Record<string, number> | null | undefined, resource: string): number {
  const t = total?.[resource] ?? 0;
  return Math.max(0, t - (available?.[resource] ?? t));
}
