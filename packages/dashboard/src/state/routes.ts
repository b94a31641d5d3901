/**
 * The state API's routes (Ray's `/api/v0/...`): lists with filters, limit and detail, one record by
 * id, summaries, and the task timeline. Parts of the cluster that do not answer within the timeout
 * are left out with a warning in the reply, never a hang.
 */
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '@rayts/common';
import { BadQueryError } from '../errors.js';
import { RESOURCES, RESOURCE_NAMES, resourceNamed, type Gathered, type ResourceName, type ResourceSpec } from './resources.js';
import { applyFilters, checkFilterKeys, parseQuery, project, type Filter, type RawQuery } from './query.js';
import { summarizeActors, summarizeObjects, summarizeTasks, type Summary } from './summary.js';
import { chromeTrace } from './timeline.js';
import type { StateSources } from './sources.js';
import type { Row } from './rows.js';
import type { GetReply, ListReply, SummaryReply } from './replies.js';

function resourceParam(name: string): ResourceName {
  const r = resourceNamed(name);
  if (!r) throw new BadQueryError('resource', `'${name}' is not a resource; use one of ${RESOURCE_NAMES.join(', ')}`);
  return r;
}

/** Every field a row of the resource has (a detailed row lists them all). */
function fieldsOf(resource: ResourceName, rows: Row[]): readonly string[] {
  return rows.length > 0 ? Object.keys(rows[0]!) : RESOURCES[resource].columns;
}

const partial = (failures: string[]) => (failures.length ? `some nodes did not answer, their data is missing: ${failures.join('; ')}` : null);

const SUMMARIES = {
  tasks: (rows: Row[], sources: StateSources) => summarizeTasks(rows, sources.taskEventStats()),
  actors: (rows: Row[]) => summarizeActors(rows),
  objects: (rows: Row[]) => summarizeObjects(rows),
} satisfies Partial<Record<ResourceName, (rows: Row[], sources: StateSources) => Summary>>;

/**
 * The rows a listing filters: with `<id field>=<id>` among the filters and a resource that can look
 * one id up (a task's attempts), only that id's rows, not every row (a page polling one task asks
 * this each second). The filters still apply to them, so the answer is the same.
 */
async function gatherFor(spec: ResourceSpec, filters: Filter[], sources: StateSources, timeoutMs: number): Promise<Gathered> {
  const byId = spec.lookup && spec.count && filters.find((f) => f.key === spec.idField && f.predicate === '=');
  if (!byId) return spec.gather(sources, timeoutMs);
  const ids = new Set([byId.value, byId.value.toLowerCase()]); // filters compare case-insensitively; ids are lower case
  return { rows: [...ids].flatMap((id) => spec.lookup!(sources, id)), failures: [], total: spec.count!(sources) };
}

export function stateRoutes(sources: StateSources): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { resource: string }; Querystring: RawQuery }>('/api/v0/:resource', async (req): Promise<ListReply> => {
      const resource = resourceParam(req.params.resource);
      const query = parseQuery(req.query);
      const spec = RESOURCES[resource];
      const { rows, failures, total } = await gatherFor(spec, query.filters, sources, query.timeoutMs);
      checkFilterKeys(query.filters, fieldsOf(resource, rows));
      const filtered = applyFilters(rows, query.filters);
      const kept = filtered.slice(0, query.limit);
      return {
        total: total ?? rows.length,
        num_filtered: filtered.length,
        num_after_truncation: kept.length,
        result: query.detail ? kept : kept.map((r) => project(r, spec.columns)),
        partial_failure_warning: partial(failures),
        warnings: filtered.length > kept.length ? [`${filtered.length - kept.length} more match: raise the limit (at most 10000) or narrow the filters`] : [],
      };
    });

    app.get<{ Params: { resource: string }; Querystring: RawQuery }>('/api/v0/:resource/summarize', async (req) => {
      const resource = resourceParam(req.params.resource);
      const summarize = (SUMMARIES as Partial<Record<ResourceName, (rows: Row[], s: StateSources) => Summary>>)[resource];
      if (!summarize) throw new BadQueryError('resource', `'${resource}' has no summary; summaries exist for tasks, actors and objects`);
      const query = parseQuery(req.query);
      const { rows, failures } = await RESOURCES[resource].gather(sources, query.timeoutMs);
      checkFilterKeys(query.filters, fieldsOf(resource, rows));
      const summary = summarize(applyFilters(rows, query.filters), sources);
      const reply: SummaryReply = { ...summary, partial_failure_warning: partial(failures) };
      return reply;
    });

    app.get<{ Querystring: { job_id?: string } }>('/api/v0/tasks/timeline', async (req) => {
      const ips = new Map(sources.nodes().map((n) => [n.record.nodeId, n.record.nodeIp]));
      const jobId = req.query.job_id;
      const attempts = [...sources.taskAttempts()].filter((a) => !jobId || a.jobId === jobId);
      return chromeTrace(attempts, ips);
    });

    app.get<{ Params: { resource: string; id: string }; Querystring: RawQuery }>('/api/v0/:resource/:id', async (req): Promise<GetReply> => {
      const resource = resourceParam(req.params.resource);
      const query = parseQuery({ timeout: req.query.timeout });
      const spec = RESOURCES[resource];
      // A lookup answers for its id (a task's attempts; a job by job id or submission id).
      const { rows, failures } = spec.lookup
        ? { rows: spec.lookup(sources, req.params.id), failures: [] }
        : await spec.gather(sources, query.timeoutMs);
      const found = spec.lookup ? rows : rows.filter((r) => r[spec.idField] === req.params.id);
      if (found.length === 0) {
        throw new NotFoundError(`${resource.replace(/s$/, '').replace('_', ' ')} with id=${req.params.id} not found${failures.length ? ` (${partial(failures)})` : ''}`);
      }
      return { result: found, partial_failure_warning: partial(failures) };
    });
  };
}
