/** The rayts release. Shown by `rayts --version` and stored in the cluster identity. */
export const RAYTS_VERSION = '0.1.0';

/**
 * The wire protocol nodes speak. A joining node with a different number is refused with both numbers
 * named (the most common Ray setup failure is mismatched versions across nodes).
 * Bump it whenever a proto change is not backward compatible. 2: frames on the local socket (and the
 * remote client's tunnel) may hold a batch of messages.
 */
export const PROTOCOL_VERSION = 2;
