/** Used of total as a bar, with the figures beside it (the bar turns amber at 80 %, red at 95 %). */
export function UsageBar({ label, used, total, text }: { label: string; used: number; total: number; text: string }) {
  const fraction = total > 0 ? Math.min(1, used / total) : 0;
  const level = fraction >= 0.95 ? 'crit' : fraction >= 0.8 ? 'warn' : 'ok';
  return (
    <div class="usage">
      <div class="bar" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={total} aria-valuenow={used} aria-valuetext={text}>
        <div class={`fill ${level}`} style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <span class="usage-text">{text}</span>
    </div>
  );
}
