/**
 * Routing by the URL's hash (`#/jobs/<id>`): the server only ever serves `/`, links are plain
 * `<a href="#/…">`, and the browser's back button works.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The page, e.g. 'jobs'; '' is the overview. */
  page: string;
  /** The id after it, decoded, when there is one. */
  id: string | undefined;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [page = '', id] = path.split('/').filter(Boolean);
  return { page, id: id === undefined ? undefined : decodeURIComponent(id), params: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function href(page: string, id?: string, params?: Record<string, string>): string {
  const q = params ? `?${new URLSearchParams(params).toString()}` : '';
  return `#/${page}${id === undefined ? '' : `/${encodeURIComponent(id)}`}${q}`;
}
