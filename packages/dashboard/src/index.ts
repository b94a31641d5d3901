export { startDashboard, type DashboardOptions, type RunningDashboard } from './server.js';
export { headRoutes } from './head_routes.js';
export { HttpError, BadRequestError, UnauthorizedError, ForbiddenError, RouteNotFoundError, MisdirectedRequestError } from './errors.js';
export { SESSION_COOKIE } from './auth.js';
export { needsPlainHttpWarning, plainHttpWarning } from './plain_http.js';
