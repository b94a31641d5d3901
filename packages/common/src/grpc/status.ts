/** Errors that cross the wire: handlers throw RpcError; clients turn statuses into rayts errors. */
import * as grpc from '@grpc/grpc-js';
import {
  AlreadyExistsError, AuthenticationError, ClusterUnreachableError, ConnectionUnavailableError, InvalidRequestError, NotFoundError, PackageRejectedError,
  PackageTooLargeError, RaytsError, VersionMismatchError,
} from '../errors.js';

export const VERSION_MISMATCH_PREFIX = 'protocol version mismatch';

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err;
}

/**
 * Trailers that carry what a status code alone cannot: which package error it was, and the limit
 * of a package that is too large (RESOURCE_EXHAUSTED also means "message over grpc's size limit").
 */
export const ERROR_CLASS_METADATA_KEY = 'rayts-error-class';
export const LIMIT_BYTES_METADATA_KEY = 'rayts-limit-bytes';

/** The status a handler answers a package error with (other errors: undefined). */
export function packageErrorStatus(err: unknown): { code: grpc.status; details: string; metadata: grpc.Metadata } | undefined {
  const metadata = new grpc.Metadata();
  if (err instanceof PackageTooLargeError) {
    metadata.set(ERROR_CLASS_METADATA_KEY, 'PackageTooLargeError');
    metadata.set(LIMIT_BYTES_METADATA_KEY, String(err.limitBytes));
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message, metadata };
  }
  if (err instanceof PackageRejectedError) {
    metadata.set(ERROR_CLASS_METADATA_KEY, 'PackageRejectedError');
    return { code: grpc.status.INVALID_ARGUMENT, details: err.message, metadata };
  }
  return undefined;
}

function packageError(err: grpc.ServiceError): Error | undefined {
  const cls = err.metadata?.get(ERROR_CLASS_METADATA_KEY)[0];
  if (cls === 'PackageTooLargeError') {
    return new PackageTooLargeError(Number(err.metadata.get(LIMIT_BYTES_METADATA_KEY)[0]), err.details,
      'leave large files out with .gitignore or the runtime env\'s excludes, or raise RAYTS_JOB_PACKAGE_MAX_BYTES on the head');
  }
  if (cls === 'PackageRejectedError') return new PackageRejectedError(err.details);
  return undefined;
}

/** Maps a failed call to the error class a user sees, naming the address that failed. */
export function toRaytsError(err: unknown, target: string, what: string): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const fromPackages = packageError(err);
  if (fromPackages) return fromPackages;
  switch (err.code) {
    case grpc.status.UNAUTHENTICATED:
      return new AuthenticationError(`${target} refused the cluster token: ${err.details}`,
        'pass the head\'s token with --token-file FILE or RAYTS_TOKEN (print it on the head with `rayts get-auth-token`)');
    case grpc.status.UNAVAILABLE:
      return new ConnectionUnavailableError(`no rayts ${what} answers at ${target} (${err.details})`,
        'check the address and port, that the head runs (`rayts status` on it) and that the firewall lets the port through');
    case grpc.status.DEADLINE_EXCEEDED:
      return new ClusterUnreachableError(`the rayts ${what} at ${target} did not answer in time`,
        'the head may be overloaded or the network slow; try again or raise RAYTS_GCS_RPC_TIMEOUT_MS');
    case grpc.status.FAILED_PRECONDITION:
      if (err.details.startsWith(VERSION_MISMATCH_PREFIX)) return new VersionMismatchError(err.details,
        'install the same rayts release on every node');
      return new RaytsError(err.details);
    case grpc.status.NOT_FOUND:
      return new NotFoundError(err.details);
    case grpc.status.ALREADY_EXISTS:
      return new AlreadyExistsError(err.details);
    case grpc.status.INVALID_ARGUMENT:
      return new InvalidRequestError(err.details);
    default:
      return new RaytsError(`${what} call to ${target} failed: ${grpc.status[err.code] ?? err.code} ${err.details}`);
  }
}
