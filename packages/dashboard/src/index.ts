export { startDashboard, type DashboardOptions, type RunningDashboard } from './server.js';
export { headRoutes } from './head_routes.js';
export { HttpError, BadRequestError, UnauthorizedError, ForbiddenError, RouteNotFoundError, MisdirectedRequestError } from './errors.js';
export { SESSION_COOKIE } from './auth.js';
export { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, needsPlainHttpWarning, plainHttpWarning } from './dashboard_flags.js';
export { createDashboardApp } from './server.js';
export { jobRoutes, type JobRoutesDeps } from './jobs/job_routes.js';
export { packageRoutes, type PackageRoutesDeps } from './jobs/package_routes.js';
export * from './jobs/job_json.js';
