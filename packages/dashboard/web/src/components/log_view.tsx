/**
 * A log that grows: polled every second (the poll's fetcher returns the text), its last lines shown
 * in a scrollable box. With "Follow" on, the box stays scrolled to the newest line.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { usePoll } from '../use_poll.js';
import { PollBanner } from './poll_banner.js';

const MAX_CHARS = 200_000;

export function LogView({ label, fetchText, deps }: { label: string; fetchText(signal: AbortSignal): Promise<string>; deps: unknown[] }) {
  const poll = usePoll(fetchText, deps);
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLPreElement>(null);
  const text = poll.data ?? '';
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text, follow]);
  const shown = text.length > MAX_CHARS ? text.slice(-MAX_CHARS) : text;
  return (
    <div class="log">
      <PollBanner polls={[poll]} />
      <label class="check"><input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow</label>
      <pre ref={box} class="log-text" role="log" aria-label={label} tabIndex={0}>
        {poll.data === undefined ? 'Loading…' : shown || '(empty so far)'}
      </pre>
    </div>
  );
}
