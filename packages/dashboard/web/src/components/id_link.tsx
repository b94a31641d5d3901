/** A link to a record's page, showing a short id (the full one in its accessible name). */
import { href } from '../router.js';
import { shortId } from '../format.js';

export function IdLink({ page, id, label }: { page: string; id: string | null | undefined; label?: string }) {
  if (!id) return <span>—</span>;
  return <a href={href(page, id)} aria-label={label ?? `${page.replace(/s$/, '')} ${id}`} title={id}>{shortId(id, 12)}</a>;
}
