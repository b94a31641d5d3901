/** Identifiers. Hex strings of random bytes, the same widths Ray uses (node ids are 28 bytes). */
import { randomBytes } from 'node:crypto';

export type NodeId = string;
export type ClusterId = string;

export const NODE_ID_BYTES = 28;
export const CLUSTER_ID_BYTES = 28;

export function newNodeId(): NodeId {
  return randomBytes(NODE_ID_BYTES).toString('hex');
}

export function newClusterId(): ClusterId {
  return randomBytes(CLUSTER_ID_BYTES).toString('hex');
}

export function isHexId(value: string, bytes: number): boolean {
  return value.length === bytes * 2 && /^[0-9a-f]+$/.test(value);
}

/** The short form users see (`node_<first 8 hex>` is not unique enough on big clusters; Ray shows all). */
export function shortId(id: string, length = 8): string {
  return id.slice(0, length);
}
