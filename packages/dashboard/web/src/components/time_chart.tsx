/** A time series (used and total over time) drawn by uPlot, sized to its box. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: number[];
  color: string;
}

export function TimeChart({ title, times, series, format }: { title: string; times: number[]; series: Series[]; format(n: number): string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [times.map((t) => t / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData;

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth), height: 160,
      legend: { show: true, live: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{}, { values: (_u, ticks) => ticks.map(format), size: 80 }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)) }))],
    };
    plot.current = new uPlot(opts, data, el);
    const observer = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: 160 }));
    observer.observe(el);
    return () => { observer.disconnect(); plot.current?.destroy(); plot.current = null; };
  }, [series.length]);

  useEffect(() => { plot.current?.setData(data); }, [times[times.length - 1], times.length]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: chart of the last ${times.length} samples`} />
    </figure>
  );
}
