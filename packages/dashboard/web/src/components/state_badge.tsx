/** A state (ALIVE, DEAD, RUNNING, FAILED, …) as a coloured badge; the word itself is the text. */
const GOOD = new Set(['ALIVE', 'RUNNING', 'SUCCEEDED', 'FINISHED', 'CREATED']);
const BAD = new Set(['DEAD', 'FAILED', 'STOPPED', 'REMOVED']);

export function StateBadge({ state }: { state: string }) {
  const kind = GOOD.has(state) ? 'good' : BAD.has(state) ? 'bad' : 'other';
  return <span class={`badge ${kind}`}>{state}</span>;
}
