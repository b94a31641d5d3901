/** Timeline: the Chrome trace of task executions, as a download (open it in Perfetto or chrome://tracing). */
export function TimelinePage() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Timeline</h1>
      <p>Every task execution as a bar per worker, in Chrome's trace format: tasks that ran side by side show as parallel bars.</p>
      <p><a class="button" href="/api/v0/tasks/timeline" download="rayts-timeline.json">Download the timeline (JSON)</a></p>
      <p class="muted">Open the file in ui.perfetto.dev ("Open trace file") or chrome://tracing. The same file comes from <code>rayts timeline</code>.</p>
    </section>
  );
}
