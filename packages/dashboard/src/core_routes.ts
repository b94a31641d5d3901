/**
 * The server's own routes: `GET /api/healthz` (public: is the head's HTTP side up), `GET /api/version`
 * (release, protocol, cluster id) and `GET /api/routes` (the route table).
 */
import type { FastifyPluginAsync } from 'fastify';
import { PROTOCOL_VERSION, RAYTS_VERSION } from '@rayts/common';
import type { RouteTable } from './route_table.js';

export interface CoreRoutesOptions {
  clusterId: string;
  routeTable: RouteTable;
}

export function coreRoutes(options: CoreRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/healthz', async () => ({ status: 'ok' }));
    app.get('/api/version', async () => ({ version: RAYTS_VERSION, protocolVersion: PROTOCOL_VERSION, clusterId: options.clusterId }));
    app.get('/api/routes', async () => options.routeTable.list());
  };
}
