// piscina worker: a no-op, an echo by structured clone, and an echo that transfers the buffer back.
import { move } from 'piscina';

export function noop() { return 'ok'; }
export function echo(b) { return b; }
export function echoMove(b) { return move(b); }
