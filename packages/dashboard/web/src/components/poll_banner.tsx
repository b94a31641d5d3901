/** A failed poll: a banner that says what failed and how old the shown data is (the page stays). */
import { time } from '../format.js';
import type { Poll } from '../use_poll.js';

export function PollBanner({ polls }: { polls: Poll<unknown>[] }) {
  const failed = polls.find((p) => p.error);
  if (!failed) return null;
  const stale = failed.updatedAtMs ? ` — showing data from ${time(failed.updatedAtMs)}` : '';
  return <div class="banner" role="alert">Could not refresh: {failed.error!.message}{stale}</div>;
}
