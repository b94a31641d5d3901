/**
 * Log files through the head (Ray's `/api/v0/logs`): a node's listing, and one file streamed as
 * plain text — its tail, followed, or a byte range (one task's output). Files are named by the
 * node's listing, never by a client path; the raylet resolves the name inside its logs directory.
 */
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '@rayts/common';
import { BadQueryError } from '../errors.js';
import type { StateSources } from './sources.js';

interface FileQuery {
  node_id?: string;
  filename?: string;
  lines?: string;
  follow?: string;
  start?: string;
  end?: string;
}

function aliveNode(sources: StateSources, nodeId: string | undefined) {
  if (!nodeId) throw new BadQueryError('node_id', 'missing (list the nodes with `rayts list nodes`)');
  const node = sources.nodes().find((n) => n.record.nodeId === nodeId);
  if (!node) throw new NotFoundError(`node with id=${nodeId} not found`);
  if (!node.live) throw new NotFoundError(`node ${nodeId} is ${node.record.state}: its log files cannot be read`);
  return node.record;
}

function integer(value: string | undefined, name: string, min: number, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new BadQueryError(name, `'${value}' is not a whole number ≥ ${min}`);
  return n;
}

export function logRoutes(sources: StateSources): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { node_id?: string; glob?: string } }>('/api/v0/logs', async (req) => {
      const nodes = req.query.node_id ? [aliveNode(sources, req.query.node_id)] : sources.nodes().filter((n) => n.live).map((n) => n.record);
      const listings = await Promise.allSettled(nodes.map((n) => sources.nodeLogs(n).listLogs(req.query.glob ?? '')));
      const result: Record<string, unknown> = {};
      const failures: string[] = [];
      listings.forEach((l, i) => {
        const node = nodes[i]!;
        if (l.status === 'fulfilled') result[node.nodeId] = { node_ip: node.nodeIp, files: l.value.files.map((f) => ({ name: f.name, size: f.size, modified_ms: f.modifiedMs, category: f.category })) };
        else failures.push(`node ${node.nodeId} (${node.nodeIp}) did not answer: ${(l.reason as Error).message}`);
      });
      return { result, partial_failure_warning: failures.length ? failures.join('; ') : null };
    });

    app.get<{ Querystring: FileQuery }>('/api/v0/logs/file', async (req, reply) => {
      const q = req.query;
      const node = aliveNode(sources, q.node_id);
      if (!q.filename) throw new BadQueryError('filename', 'missing (take a name from GET /api/v0/logs?node_id=…)');
      const hasRange = q.start !== undefined || q.end !== undefined;
      const request = {
        name: q.filename, tail: integer(q.lines, 'lines', -1, 1000), follow: q.follow === 'true' || q.follow === '1',
        range: hasRange, startOffset: integer(q.start, 'start', 0, 0), endOffset: integer(q.end, 'end', 0, Number.MAX_SAFE_INTEGER),
      };
      const logs = sources.nodeLogs(node);
      // The listing says whether the file exists, so a wrong name is a 404 before any byte is sent.
      const listing = await logs.listLogs(q.filename);
      if (!listing.files.some((f) => f.name === q.filename)) throw new NotFoundError(`node ${node.nodeId} has no log file named ${q.filename}`);
      const body = new PassThrough();
      const stream = logs.streamLog(request, (chunk) => { body.write(chunk.data); });
      stream.done.then(() => body.end(), (err: Error) => body.destroy(err));
      // The response closes when it is done or the client went away: either way the stream ends.
      reply.raw.once('close', () => stream.cancel());
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(body);
    });
  };
}
