/** `GET /api/v0/history`: the head's recent resource samples (ResourceHistory), oldest first. */
import type { FastifyPluginAsync } from 'fastify';
import type { HistoryReply } from './resource_history.js';

export interface HistorySource {
  snapshot(): HistoryReply;
}

export function historyRoutes(history: HistorySource): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/v0/history', async (): Promise<HistoryReply> => history.snapshot());
  };
}
