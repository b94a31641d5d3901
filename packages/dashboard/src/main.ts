#!/usr/bin/env node
/**
 * Entry point of the head process (`rayts start --head` spawns it detached). It composes the GCS
 * (`startHead`) and, unless --include-dashboard=false, the HTTP API server on the head's in-process
 * state; then it publishes the API's URL in the GCS kv (so any client that reaches the GCS finds it)
 * and writes the head's ready file, which `rayts start` waits for. SIGTERM stops the HTTP server
 * first, then the head. Arguments carry no secret: the token is read from --token-file.
 */
import { parseArgs } from 'node:util';
import {
  DASHBOARD_NAMESPACE, DASHBOARD_URL_KEY, componentLogger, parseBoolean, parsePort, readTokenFile, runDaemon, tlsFromEnv, writeJson,
  type HeadReady,
} from '@rayts/common';
import { MetricsDiscoveryFile, metricsDiscoveryPath, startHead } from '@rayts/gcs';
import { startDashboard, type RunningDashboard } from './server.js';
import { headRoutes } from './head_routes.js';
import { metricsRoute } from './metrics_route.js';
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from './dashboard_flags.js';
import { ResourceHistory } from './history/resource_history.js';
import { historyRoutes } from './history/history_routes.js';
import { WebAssets, defaultWebDistDir } from './web/web_assets.js';
import { webRoutes } from './web/web_routes.js';

const { values } = parseArgs({
  options: {
    'session-dir': { type: 'string' },
    'state-dir': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'token-file': { type: 'string' },
    'dashboard-host': { type: 'string' },
    'dashboard-port': { type: 'string' },
    'include-dashboard': { type: 'string' },
    'metrics-auth': { type: 'string' },
    'client-port': { type: 'string' },
  },
  strict: true,
});

await runDaemon({
  role: 'head', title: 'rayts-gcs-server', component: 'gcs_server', sessionDir: values['session-dir'],
  start: async ({ sessionDir, paths, config, logger, fail }) => {
    const stateDir = values['state-dir'] ?? fail('--state-dir is required');
    const host = values.host ?? '127.0.0.1';
    const token = readTokenFile(values['token-file'] ?? fail('--token-file is required'));
    const includeDashboard = parseBoolean(values['include-dashboard'] ?? 'true', '--include-dashboard');
    const metricsAuth = parseBoolean(values['metrics-auth'] ?? 'true', '--metrics-auth');
    const dashboardPort = parsePort(values['dashboard-port'] ?? String(DEFAULT_DASHBOARD_PORT), '--dashboard-port');
    const tls = tlsFromEnv();
    const clientPort = values['client-port'] === undefined ? undefined : parsePort(values['client-port'], '--client-port');
    const head = await startHead({ sessionDir, stateDir, host, port: parsePort(values.port ?? '6379', '--port'), token, config, logger, tls, clientPort });

    let dashboard: RunningDashboard | undefined;
    let history: ResourceHistory | undefined;
    const dashboardLogger = includeDashboard ? componentLogger(paths, 'dashboard', config) : undefined;
    if (dashboardLogger) {
      try {
        history = new ResourceHistory({ view: head.state.nodes, capacity: config.dashboardHistorySamples, intervalMs: config.dashboardHistoryIntervalMs });
        const web = new WebAssets(defaultWebDistDir());
        if (web.state === 'NOT_BUILT') dashboardLogger.warn('the web page is not built: `GET /` answers 503 until `npm run build:web` ran and the head restarted', { dir: web.dir });
        dashboard = await startDashboard({
          host: values['dashboard-host'] ?? DEFAULT_DASHBOARD_HOST, port: dashboardPort, advertiseHost: host, token, tls,
          clusterId: head.identity.clusterId, sessionName: head.state.sessionName, config, logger: dashboardLogger, routes: [...headRoutes(head.state), metricsRoute(head.metrics), historyRoutes(history), webRoutes(web)],
          publicMetrics: !metricsAuth,
        });
        history.start();
      } catch (err) {
        dashboardLogger.error('the HTTP API could not start', { err });
        dashboardLogger.close();
        await head.stop();
        throw err;
      }
    }
    if (dashboard) head.state.kv.put(DASHBOARD_NAMESPACE, DASHBOARD_URL_KEY, Buffer.from(dashboard.url), true);
    else head.state.kv.del(DASHBOARD_NAMESPACE, DASHBOARD_URL_KEY);
    // Prometheus finds every raylet's endpoint and the head's own /metrics (on the HTTP API) in this file.
    const discovery = new MetricsDiscoveryFile({
      nodes: head.state.nodes, path: metricsDiscoveryPath(sessionDir), tls: !!tls, logger,
      extraTargets: dashboard ? [{ target: new URL(dashboard.url).host, labels: { component: 'head' } }] : [],
    });
    discovery.start();
    const ready: HeadReady = {
      pid: process.pid, address: head.address, port: head.port, clusterId: head.identity.clusterId, stateDir, dashboardUrl: dashboard?.url,
      clientPort: head.clientPort,
    };
    writeJson(paths.headReady, ready);
    logger.info(dashboard ? 'the HTTP API is up' : 'running without the HTTP API (--include-dashboard=false)', { url: dashboard?.url });
    return {
      async stop() {
        discovery.stop();
        history?.stop();
        await dashboard?.stop();
        dashboardLogger?.close();
        await head.stop();
      },
    };
  },
});
