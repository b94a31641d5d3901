/** A record's fields as a description list (label, value). */
import type { ComponentChildren } from 'preact';

export function Fields({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="fields">
      {items.map(([label, value]) => (
        <div class="field" key={label}><dt>{label}</dt><dd>{value ?? '—'}</dd></div>
      ))}
    </dl>
  );
}
