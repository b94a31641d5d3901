/**
 * gRPC server latency for Prometheus, shared by the head and the raylets: the histogram's definition
 * (name, labels, buckets) and the observer the servers' interceptor calls with each call's method,
 * status and duration. common does not depend on prom-client: the daemons build the histogram from
 * the definition and hand it over; only the two calls used here are assumed of it.
 */
import * as grpc from '@grpc/grpc-js';

/** What a gRPC server reports of each accepted call once its status goes out. */
export interface RpcLatencyObserver {
  observe(path: string, code: grpc.status, seconds: number): void;
}

/** The part of a prom-client `Histogram<'method' | 'code'>` the observer uses. */
export interface LabeledHistogram {
  labels(...values: string[]): { observe(value: number): void };
}

/** `new Histogram({ ...GRPC_SERVER_LATENCY_METRIC, registers: [registry] })`. */
export const GRPC_SERVER_LATENCY_METRIC = {
  name: 'rayts_grpc_server_latency_seconds',
  help: 'Time from the arrival of a gRPC call to its status, per method and status code (streams: until the stream ends)',
  labelNames: ['method', 'code'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
};

/** `/rayts.v1.NodeService/RegisterNode` → `NodeService/RegisterNode`. */
export function rpcMethodName(path: string): string {
  const slash = path.lastIndexOf('/');
  const service = path.slice(1, slash);
  return `${service.slice(service.lastIndexOf('.') + 1)}/${path.slice(slash + 1)}`;
}

/**
 * Observes into the histogram, keeping one child per (method, code): the per-call cost is a Map
 * lookup and the bucket search, no label hashing. Methods and codes are finite, so is the map.
 */
export class RpcLatency implements RpcLatencyObserver {
  private readonly children = new Map<string, { observe(value: number): void }>();

  constructor(private readonly histogram: LabeledHistogram) {}

  observe(path: string, code: grpc.status, seconds: number): void {
    const key = `${code}${path}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.histogram.labels(rpcMethodName(path), grpc.status[code] ?? String(code));
      this.children.set(key, child);
    }
    child.observe(seconds);
  }
}
