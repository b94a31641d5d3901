/** A page's frame: its heading, the failed-poll banner, and a placeholder until the first data. */
import type { ComponentChildren } from 'preact';
import { PollBanner } from './poll_banner.js';
import type { Poll } from '../use_poll.js';

export function Page({ title, polls, children }: { title: string; polls: Poll<unknown>[]; children: ComponentChildren }) {
  const loading = polls.some((p) => p.data === undefined);
  const failedFirst = polls.some((p) => p.data === undefined && p.error);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{title}</h1>
      <PollBanner polls={polls} />
      {loading ? (failedFirst ? null : <p class="muted" aria-live="polite">Loading…</p>) : children}
    </section>
  );
}
