/**
 * A state query (Ray's list options): filters `key=value` / `key!=value` (ANDed, values compared
 * case-insensitively), a limit (default 100, at most 10,000) and detail. Bad input is a
 * BadQueryError naming the parameter.
 */
import { BadQueryError } from '../errors.js';
import type { Row } from './rows.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;
export const DEFAULT_TIMEOUT_S = 30;

export interface Filter {
  key: string;
  predicate: '=' | '!=';
  value: string;
}

export interface StateQuery {
  filters: Filter[];
  limit: number;
  detail: boolean;
  timeoutMs: number;
}

export interface RawQuery {
  filter?: string | string[];
  limit?: string;
  detail?: string;
  timeout?: string;
}

const FILTER = /^([A-Za-z_][A-Za-z0-9_]*)\s*(!=|=)(.*)$/s;

export function parseFilter(text: string): Filter {
  const m = FILTER.exec(text.trim());
  if (!m) throw new BadQueryError('filter', `'${text}' is not key=value or key!=value (e.g. state=ALIVE)`);
  return { key: m[1]!, predicate: m[2] as Filter['predicate'], value: m[3]!.trim() };
}

function parseBool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return false;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new BadQueryError(name, `'${value}' is not true or false`);
}

function parseLimit(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new BadQueryError('limit', `'${value}' is not a whole number from 1 to ${MAX_LIMIT} (the default is ${DEFAULT_LIMIT})`);
  }
  return n;
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_TIMEOUT_S * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new BadQueryError('timeout', `'${value}' is not a number of seconds from 0 to 3600`);
  return Math.round(n * 1000);
}

export function parseQuery(raw: RawQuery): StateQuery {
  const filters = raw.filter === undefined ? [] : (Array.isArray(raw.filter) ? raw.filter : [raw.filter]);
  return { filters: filters.map(parseFilter), limit: parseLimit(raw.limit), detail: parseBool(raw.detail, 'detail'), timeoutMs: parseTimeout(raw.timeout) };
}

/** How a field's value compares: strings and numbers as text, null as '' / 'null' / 'none'. */
function matches(value: unknown, wanted: string): boolean {
  const w = wanted.toLowerCase();
  if (value === null || value === undefined) return w === '' || w === 'null' || w === 'none';
  if (typeof value === 'object') return JSON.stringify(value).toLowerCase() === w;
  return String(value).toLowerCase() === w;
}

/** Checks the filter keys against the resource's fields (known from any row, or the columns). */
export function checkFilterKeys(filters: Filter[], fields: readonly string[]): void {
  for (const f of filters) {
    if (!fields.includes(f.key)) {
      throw new BadQueryError('filter', `'${f.key}' is not a field of this resource; its fields are ${fields.join(', ')}`);
    }
  }
}

export function applyFilters(rows: Row[], filters: Filter[]): Row[] {
  if (filters.length === 0) return rows;
  return rows.filter((row) => filters.every((f) => matches(row[f.key], f.value) === (f.predicate === '=')));
}

/** The row with only the given columns, in their order. */
export function project(row: Row, columns: readonly string[]): Row {
  const out: Row = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out;
}
