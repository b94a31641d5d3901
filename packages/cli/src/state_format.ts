/**
 * How `rayts list`, `get` and `summary` print (Ray's state CLI): a dated header, a Stats block and
 * a table with a row index; `--format json|yaml` for scripts. Nested values print as compact JSON.
 */
import { stringify } from 'yaml';
import { formatTable, formatTimestamp } from '@rayts/common';
import type { ListReply, Row, SummaryReply } from '@rayts/dashboard/state/replies';

export type { ListReply, Row, SummaryReply };
export const FORMATS = ['default', 'json', 'yaml', 'table'] as const;
export type Format = (typeof FORMATS)[number];

const RULE = '-'.repeat(30);

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The table with Ray's row index column and upper-case headers. */
export function indexedTable(rows: Row[], columns: string[]): string {
  const body = rows.map((r, i) => [String(i), ...columns.map((c) => cell(r[c]))]);
  return formatTable(['', ...columns.map((c) => c.toUpperCase())], body).split('\n').map((l) => ` ${l}`).join('\n');
}

export function renderList(reply: ListReply, resource: string, format: Format, detail: boolean, now = new Date()): string {
  const rows = reply.result;
  if (format === 'json') return JSON.stringify(rows, null, 2) + '\n';
  if (format === 'yaml' || (format === 'default' && detail)) return stringify(rows);
  if (rows.length === 0) return `No ${resource.replace(/_/g, ' ')} in the cluster${reply.total > 0 ? ' match the filters' : ''}.\n`;
  const columns = Object.keys(rows[0]!);
  return [
    `======== List: ${formatTimestamp(now)} ========`,
    'Stats:', RULE, `Total: ${reply.num_after_truncation}`, '',
    'Table:', RULE, indexedTable(rows, columns), '',
  ].join('\n');
}

export function renderSummary(reply: SummaryReply, title: string, format: Format, now = new Date()): string {
  if (format === 'json') return JSON.stringify({ stats: reply.stats, groups: reply.groups }, null, 2) + '\n';
  if (format === 'yaml') return stringify({ stats: reply.stats, groups: reply.groups });
  const stats = Object.entries(reply.stats).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${cell(v)}`);
  const countColumns = new Set(['state_counts', 'task_state_counts', 'ref_type_counts']);
  const rows = reply.groups.map((g) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k,
    countColumns.has(k) ? Object.entries(v as Record<string, number>).map(([s, n]) => `${s}: ${n}`).join(', ') : v])));
  const columns = rows.length ? Object.keys(rows[0]!) : [];
  return [
    `======== ${title} Summary: ${formatTimestamp(now)} ========`,
    'Stats:', '-'.repeat(36), ...stats, '',
    `Table (group by ${reply.groupBy}):`, '-'.repeat(36), rows.length ? indexedTable(rows, columns) : '(nothing to summarize)', '',
  ].join('\n');
}

/** Warnings of a reply, for stderr. */
export function replyWarnings(reply: { warnings: string[]; partial_failure_warning: string | null }): string[] {
  return [...(reply.partial_failure_warning ? [reply.partial_failure_warning] : []), ...reply.warnings];
}
