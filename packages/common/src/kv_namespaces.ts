/** Namespaces of the head's kv store that several packages share. */

/** Shipped functions and classes, by content hash (written by drivers, read by workers and the head). */
export const FUNCTION_NAMESPACE = 'fn';

/**
 * Where the head's HTTP API server listens: key `url` holds its base URL (`http://127.0.0.1:8265`),
 * written by the head when the server listens and deleted when it starts without one, so any client
 * that reaches the GCS can find the API (Ray's DASHBOARD_ADDRESS entry).
 */
export const DASHBOARD_NAMESPACE = 'dashboard';
export const DASHBOARD_URL_KEY = 'url';
