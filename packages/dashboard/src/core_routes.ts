/**
 * The server's own routes: `GET /api/healthz` (public: is the head's HTTP side up), `GET /api/version`
 * (release, protocol, cluster id, and Ray's version fields; `package_max_bytes` lets `rayts job
 * submit` refuse an oversized working_dir before uploading it) and `GET /api/routes` (the route table).
 */
import type { FastifyPluginAsync } from 'fastify';
import { PROTOCOL_VERSION, RAYTS_VERSION } from '@rayts/common';
import type { RouteTable } from './route_table.js';

export interface CoreRoutesOptions {
  clusterId: string;
  routeTable: RouteTable;
  /** The head's session name, when the server runs in a head. */
  sessionName?: string;
  /** The largest working_dir package the head accepts (`jobPackageMaxBytes`). */
  packageMaxBytes: number;
}

/** `GET /api/version`: rayts's own fields, then Ray's (`ray_version` is the rayts release; rayts has no build commit). */
export interface VersionReply {
  version: string;
  protocolVersion: number;
  clusterId: string;
  ray_version: string;
  ray_commit: string | null;
  session_name: string | null;
  package_max_bytes: number;
}

export function coreRoutes(options: CoreRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/healthz', async () => ({ status: 'ok' }));
    app.get('/api/version', async (): Promise<VersionReply> => ({
      version: RAYTS_VERSION, protocolVersion: PROTOCOL_VERSION, clusterId: options.clusterId,
      ray_version: RAYTS_VERSION, ray_commit: null, session_name: options.sessionName ?? null, package_max_bytes: options.packageMaxBytes,
    }));
    app.get('/api/routes', async () => options.routeTable.list());
  };
}
