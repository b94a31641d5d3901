import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { bindServer, createServer, unary } from './server.js';
import { RpcLatency, rpcMethodName, type LabeledHistogram } from './server_latency.js';
import { raytsProto } from './proto.js';
import { RpcError } from '../errors.js';
import { nullLogger } from '../logger.js';

/** Records what the observer hands the histogram. */
function fakeHistogram() {
  const seen: { labels: string[]; value: number }[] = [];
  let children = 0;
  const histogram: LabeledHistogram = {
    labels: (...labels: string[]) => {
      children += 1;
      return { observe: (value: number) => { seen.push({ labels, value }); } };
    },
  };
  return { histogram, seen, children: () => children };
}

describe('rpcMethodName', () => {
  it('keeps the service and method of a gRPC path', () => {
    expect(rpcMethodName('/rayts.v1.NodeService/RegisterNode')).toBe('NodeService/RegisterNode');
    expect(rpcMethodName('/Plain/Method')).toBe('Plain/Method');
  });
});

describe('RpcLatency', () => {
  it('labels by method and status name and makes one child per pair', () => {
    const h = fakeHistogram();
    const latency = new RpcLatency(h.histogram);
    latency.observe('/rayts.v1.ClusterService/GetClusterInfo', grpc.status.OK, 0.01);
    latency.observe('/rayts.v1.ClusterService/GetClusterInfo', grpc.status.OK, 0.02);
    latency.observe('/rayts.v1.ClusterService/GetClusterInfo', grpc.status.NOT_FOUND, 0.03);
    expect(h.seen).toEqual([
      { labels: ['ClusterService/GetClusterInfo', 'OK'], value: 0.01 },
      { labels: ['ClusterService/GetClusterInfo', 'OK'], value: 0.02 },
      { labels: ['ClusterService/GetClusterInfo', 'NOT_FOUND'], value: 0.03 },
    ]);
    expect(h.children()).toBe(2);
  });
});

describe('a server with a latency observer', () => {
  let server: grpc.Server | undefined;
  afterEach(() => server?.forceShutdown());

  it('times accepted calls with their status, and not the ones refused for the token', async () => {
    const token = 'c'.repeat(64);
    const observed: { path: string; code: grpc.status; seconds: number }[] = [];
    server = createServer({
      token, logger: nullLogger, maxMessageBytes: 1 << 20, authFailureLogIntervalMs: 60_000,
      latency: { observe: (path, code, seconds) => observed.push({ path, code, seconds }) },
    });
    let fail = false;
    server.addService(raytsProto().ClusterService.service, {
      GetClusterInfo: unary(nullLogger, 'GetClusterInfo', async () => {
        await new Promise((r) => setTimeout(r, 20));
        if (fail) throw new RpcError(grpc.status.NOT_FOUND, 'nothing');
        return {};
      }),
      GetClusterStatus: unary(nullLogger, 'GetClusterStatus', () => ({})),
    });
    const port = await bindServer(server, '127.0.0.1', 0, undefined, 'test');
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = (withToken: string) => new Promise<number>((resolve) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${withToken}`);
      client.makeUnaryRequest('/rayts.v1.ClusterService/GetClusterInfo', () => Buffer.alloc(0), (b: Buffer) => b, {}, metadata,
        (err) => resolve(err ? err.code : grpc.status.OK));
    });
    try {
      expect(await call(token)).toBe(grpc.status.OK);
      fail = true;
      expect(await call(token)).toBe(grpc.status.NOT_FOUND);
      expect(await call('d'.repeat(64))).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
    expect(observed.map((o) => [o.path, o.code])).toEqual([
      ['/rayts.v1.ClusterService/GetClusterInfo', grpc.status.OK],
      ['/rayts.v1.ClusterService/GetClusterInfo', grpc.status.NOT_FOUND],
    ]);
    for (const o of observed) expect(o.seconds).toBeGreaterThanOrEqual(0.015);
  });
});
