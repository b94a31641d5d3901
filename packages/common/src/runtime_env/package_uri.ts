/**
 * Names of working_dir packages. A package is content-addressed: its URI carries the sha256 of the
 * packed .tar.gz, so one already on the head is never sent again and a download can be checked.
 * Ray's form is gcs://_ray_pkg_<hash>.zip; rayts's is gcs://_rayts_pkg_<sha256>.tar.gz.
 */
import { RuntimeEnvError } from '../errors.js';

export const PACKAGE_PROTOCOL = 'gcs';
const NAME = /^_rayts_pkg_([0-9a-f]{64})\.tar\.gz$/;
const URI = /^gcs:\/\/(_rayts_pkg_[0-9a-f]{64}\.tar\.gz)$/;

export function packageName(sha256: string): string {
  return `_rayts_pkg_${sha256}.tar.gz`;
}

export function packageUri(sha256: string): string {
  return `${PACKAGE_PROTOCOL}://${packageName(sha256)}`;
}

export function isPackageUri(text: string): boolean {
  return URI.test(text);
}

/** The sha256 in a package name (`_rayts_pkg_<sha256>.tar.gz`), or undefined. */
export function shaOfPackageName(name: string): string | undefined {
  return NAME.exec(name)?.[1];
}

/** The parts of a package URI; RuntimeEnvError('working_dir') for anything else. */
export function parsePackageUri(uri: string): { protocol: string; name: string; sha256: string } {
  const m = URI.exec(uri);
  if (!m) throw new RuntimeEnvError('working_dir', `'${uri}' is not a package URI (gcs://_rayts_pkg_<sha256>.tar.gz)`);
  return { protocol: PACKAGE_PROTOCOL, name: m[1]!, sha256: shaOfPackageName(m[1]!)! };
}
