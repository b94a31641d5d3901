/**
 * ObjectRef<T>: a typed handle to a value that exists (or will) somewhere in the cluster. The type
 * parameter exists only for the compiler; at run time a ref is an id plus its owner's address.
 * It is deliberately not a thenable: an async function returning a ref must return the ref.
 */
import type { Address } from './protocol/messages.js';

declare const valueType: unique symbol;

export class ObjectRef<T = unknown> {
  declare readonly [valueType]: T;
  constructor(readonly id: string, readonly owner: Address) {}

  toString(): string {
    return `ObjectRef(${this.id})`;
  }
}
