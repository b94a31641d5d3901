/**
 * `rayts list <resource>`, `rayts get <resource> <id>` and `rayts summary tasks|actors|objects`:
 * Ray's state CLI over the head's HTTP API. Options are checked here first (usage errors exit 2
 * before any request); the server checks them again.
 */
import { UsageError } from '@rayts/common';
import { FORMATS, renderList, renderSummary, replyWarnings, type Format, type ListReply, type SummaryReply } from '../state_format.js';
import type { GetReply } from '@rayts/dashboard/state/replies';
import { printJson } from '../output.js';
import { stringify } from 'yaml';

/** The HTTP API as these commands use it. */
export interface StateApi {
  get<T>(path: string, query?: Record<string, string | string[] | undefined>): Promise<T>;
}

export const LIST_RESOURCES = ['actors', 'jobs', 'placement-groups', 'nodes', 'workers', 'tasks', 'objects'] as const;
const SUMMARY_RESOURCES = ['tasks', 'actors', 'objects'] as const;
const MAX_LIMIT = 10_000;

export interface StateOptions {
  filter?: string[];
  limit?: string;
  detail?: boolean;
  format?: string;
  json?: boolean;
  timeout?: string;
}

function resourceArg(value: string, allowed: readonly string[], command: string): string {
  const v = value.toLowerCase().replace(/_/g, '-');
  const singular = allowed.find((a) => a === v || a === `${v}s`);
  if (!singular) throw new UsageError(`'${value}' is not a resource ${command} knows`, `use one of ${allowed.join(', ')}`);
  return singular.replace(/-/g, '_');
}

function formatOption(options: StateOptions): Format {
  if (options.json) return 'json';
  const f = (options.format ?? 'default').toLowerCase();
  if (!(FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got '${options.format}'`);
  return f as Format;
}

function queryOf(options: StateOptions): Record<string, string | string[] | undefined> {
  for (const f of options.filter ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*\s*!?=/.test(f)) throw new UsageError(`--filter '${f}' is not key=value or key!=value`, 'e.g. --filter state=ALIVE --filter "name!=foo"');
  }
  if (options.limit !== undefined) {
    const n = Number(options.limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got '${options.limit}'`);
  }
  if (options.timeout !== undefined && !(Number(options.timeout) > 0)) throw new UsageError(`--timeout must be a number of seconds, got '${options.timeout}'`);
  return { filter: options.filter, limit: options.limit, detail: options.detail ? 'true' : undefined, timeout: options.timeout };
}

function warn(lines: string[]): void {
  for (const l of lines) process.stderr.write(`Warning: ${l}\n`);
}

export async function listCommand(resourceName: string, options: StateOptions, api: StateApi): Promise<number> {
  const resource = resourceArg(resourceName, LIST_RESOURCES, 'list');
  const format = formatOption(options);
  const query = queryOf(options);
  const reply = await api.get<ListReply>(`/api/v0/${resource}`, query);
  warn(replyWarnings(reply));
  process.stdout.write(renderList(reply, resource, format, !!options.detail));
  return 0;
}

export async function getCommand(resourceName: string, id: string | undefined, options: StateOptions, api: StateApi): Promise<number> {
  const allowed = LIST_RESOURCES.filter((r) => r !== 'jobs');
  const resource = resourceArg(resourceName, allowed, 'get');
  if (!id) throw new UsageError(`rayts get ${resourceName} needs an id`, `find one with \`rayts list ${resource.replace(/_/g, '-')}\``);
  const format = formatOption(options);
  const reply = await api.get<GetReply>(
    `/api/v0/${resource}/${encodeURIComponent(id)}`, { timeout: options.timeout });
  warn(replyWarnings({ warnings: [], partial_failure_warning: reply.partial_failure_warning }));
  const value = reply.result.length === 1 ? reply.result[0] : reply.result;
  if (format === 'json') printJson(value);
  else process.stdout.write(stringify(value));
  return 0;
}

export async function summaryCommand(resourceName: string, options: StateOptions, api: StateApi): Promise<number> {
  const resource = resourceArg(resourceName, SUMMARY_RESOURCES, 'summary');
  const format = formatOption(options);
  const reply = await api.get<SummaryReply>(`/api/v0/${resource}/summarize`, { ...queryOf(options), limit: undefined });
  warn(replyWarnings(reply));
  process.stdout.write(renderSummary(reply, resource[0]!.toUpperCase() + resource.slice(1), format));
  return 0;
}

