/**
 * The polling hook every page uses: fetches now and then every interval (1 s by default), keeps the
 * last good data when a poll fails (the page shows a banner, not a blank), and sends the user to the
 * login page on a 401. A fetch still running when the next one is due is not doubled.
 */
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { UnauthorizedError } from './api.js';
import { AuthContext } from './auth_context.js';

export const POLL_INTERVAL_MS = 1000;

export interface Poll<T> {
  data: T | undefined;
  /** The last poll's error, cleared by the next good one. */
  error: Error | undefined;
  /** When data last arrived. */
  updatedAtMs: number | undefined;
  /** Fetches again now (after an action, e.g. Stop). */
  refresh(): void;
}

export function usePoll<T>(fetcher: (signal: AbortSignal) => Promise<T>, deps: unknown[], intervalMs = POLL_INTERVAL_MS): Poll<T> {
  const auth = useContext(AuthContext);
  const [state, setState] = useState<{ data?: T; error?: Error; updatedAtMs?: number }>({});
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    setState({});
    const controller = new AbortController();
    let running = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (running || controller.signal.aborted) return;
      running = true;
      clearTimeout(timer);
      try {
        const data = await fetcher(controller.signal);
        if (!controller.signal.aborted) setState({ data, updatedAtMs: Date.now() });
      } catch (err) {
        if (controller.signal.aborted) return;
        if (err instanceof UnauthorizedError) { auth.signedOut(); return; }
        setState((s) => ({ ...s, error: err as Error }));
      } finally {
        running = false;
        if (!controller.signal.aborted) timer = setTimeout(tick, intervalMs);
      }
    };
    kick.current = () => { void tick(); };
    void tick();
    return () => { controller.abort(); clearTimeout(timer); };
  }, deps);

  return { data: state.data, error: state.error, updatedAtMs: state.updatedAtMs, refresh: () => kick.current() };
}
