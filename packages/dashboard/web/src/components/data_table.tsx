/** A table of rows with named columns; wide tables scroll sideways inside their box on a phone. */
import type { ComponentChildren } from 'preact';

export interface Column<T> {
  label: string;
  render(row: T): ComponentChildren;
  /** Right-aligned numbers. */
  numeric?: boolean;
}

export function DataTable<T>({ caption, columns, rows, rowKey, empty }: {
  caption: string; columns: Column<T>[]; rows: T[]; rowKey(row: T): string; empty?: string;
}) {
  if (rows.length === 0) return <p class="muted">{empty ?? `No ${caption.toLowerCase()}.`}</p>;
  return (
    <div class="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead><tr>{columns.map((c) => <th scope="col" class={c.numeric ? 'num' : undefined}>{c.label}</th>)}</tr></thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>{columns.map((c) => <td class={c.numeric ? 'num' : undefined}>{c.render(row)}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
