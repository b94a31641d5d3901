/** Namespaces of the head's kv store that several packages share. */

/** Shipped functions and classes, by content hash (written by drivers, read by workers and the head). */
export const FUNCTION_NAMESPACE = 'fn';
