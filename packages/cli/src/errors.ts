/** The CLI's own errors: talking to the head's HTTP API. */
import { ClusterUnreachableError, RaytsError } from '@rayts/common';

/** The API answered with an error status; `status` and the server's own message are kept. */
export class ApiError extends RaytsError {
  constructor(readonly status: number, readonly serverMessage: string, readonly method: string, readonly path: string, hint?: string) {
    super(`${method} ${path} failed with HTTP ${status}: ${serverMessage}`, hint);
  }
}

/** Nothing answers at the API's address (refused, unreachable, timed out, connection dropped): exit 3. */
export class ApiUnreachableError extends ClusterUnreachableError {}

/** The cluster runs without its HTTP API (`--include-dashboard=false`): exit 3. */
export class DashboardDisabledError extends ClusterUnreachableError {}

/** The API server's TLS certificate could not be verified against the cluster CA. */
export class ApiTlsError extends RaytsError {}

/** A packed working_dir is over the head's package limit: nothing was uploaded. */
export class WorkingDirTooLargeError extends RaytsError {}
