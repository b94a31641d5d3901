/** The server's routes as `[{ method, url }]`, collected as they are added (`GET /api/routes` serves it). */
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  url: string;
}

export class RouteTable {
  private readonly routes: RouteEntry[] = [];

  /** Starts collecting; call before any route is added. */
  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) this.routes.push({ method, url: route.url });
    });
  }

  list(): RouteEntry[] {
    return [...this.routes].sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
  }
}
