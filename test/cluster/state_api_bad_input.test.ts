/**
 * Bad input to the state API: an unknown resource, a filter without a predicate or on a field the
 * resource lacks, a limit of 0 or above the cap, a bad detail flag. The HTTP API answers 400 naming
 * the parameter, the CLI exits 2 with the same message, and the server keeps serving.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster } from '../helpers/cluster.js';
import { http } from '../helpers/http.js';

const newCluster = useCluster();

describe('state API bad input', () => {
  it('answers 400 naming the parameter, the CLI exits 2, and the server keeps serving', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const url = head.dashboardUrl!;
    const auth = { authorization: `Bearer ${readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim()}` };
    const cases: [string, RegExp][] = [
      ['/api/v0/foo', /bad resource: 'foo' is not a resource.*nodes, actors, tasks/],
      ['/api/v0/foo/summarize', /bad resource/],
      ['/api/v0/nodes/summarize', /bad resource: 'nodes' has no summary/],
      ['/api/v0/nodes?filter=state', /bad filter: 'state' is not key=value/],
      ['/api/v0/nodes?filter=colour%3Dred', /bad filter: 'colour' is not a field of this resource; its fields are node_id/],
      ['/api/v0/tasks?limit=0', /bad limit: '0'/],
      ['/api/v0/tasks?limit=10001', /bad limit: '10001'/],
      ['/api/v0/tasks?limit=ten', /bad limit/],
      ['/api/v0/actors?detail=maybe', /bad detail/],
      ['/api/v0/objects?timeout=-1', /bad timeout/],
      ['/api/v0/logs/file?node_id=&filename=x', /bad node_id/],
    ];
    for (const [path, message] of cases) {
      const answer = await http(url, path, { headers: auth });
      expect(answer.status, path).toBe(400);
      expect((answer.json as { error: string }).error, path).toMatch(message);
    }
    const missing = await http(url, '/api/v0/actors/ffff', { headers: auth });
    expect(missing.status).toBe(404);
    expect((missing.json as { error: string }).error).toBe('actor with id=ffff not found');

    const cli = (...args: string[]) => cluster.rayts([...args, `--temp-dir=${head.tempDir}`]);
    for (const args of [['list', 'foo'], ['list', 'nodes', '--filter', 'state'], ['list', 'tasks', '--limit', '0'], ['list', 'tasks', '--limit', '10001'],
      ['summary', 'nodes'], ['get', 'actors'], ['list', 'nodes', '--filter', 'colour=red']]) {
      const r = await cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^Error: /);
    }
    expect((await cli('list', 'nodes', '--filter', 'colour=red')).stderr).toContain("'colour' is not a field of this resource");
    // A choice commander checks (exit 2, naming the choices).
    const xml = await cli('list', 'nodes', '--format', 'xml');
    expect(xml.code).toBe(2);
    expect(xml.stderr).toContain("argument 'xml' is invalid. Allowed choices are default, json, yaml, table.");

    // Still serving.
    expect((await http(url, '/api/healthz')).status).toBe(200);
    const nodes = await http(url, '/api/v0/nodes', { headers: auth });
    expect(nodes.status).toBe(200);
    expect((nodes.json as { total: number }).total).toBe(1);
  });
});
