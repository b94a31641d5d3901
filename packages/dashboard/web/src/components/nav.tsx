/** The navigation bar: one link per page, the current one marked for assistive technology. */
import { href } from '../router.js';

export const PAGES: [string, string][] = [
  ['', 'Overview'], ['nodes', 'Nodes'], ['jobs', 'Jobs'], ['tasks', 'Tasks'], ['actors', 'Actors'],
  ['placement-groups', 'Placement groups'], ['objects', 'Objects'], ['logs', 'Logs'], ['timeline', 'Timeline'],
];

export function Nav({ current }: { current: string }) {
  return (
    <nav aria-label="pages">
      <ul>
        {PAGES.map(([page, label]) => (
          <li key={page}><a href={page ? href(page) : '#/'} aria-current={current === page ? 'page' : undefined}>{label}</a></li>
        ))}
      </ul>
    </nav>
  );
}
