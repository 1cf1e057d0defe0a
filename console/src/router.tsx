import { type AnchorHTMLAttributes, type MouseEvent, createContext, useContext, useEffect, useState } from 'react';

// A small client-side router over the History API: the server answers index.html for every
// page path under /console/, so links are real URLs that survive a reload and can be shared.

export const BASE = '/console';

export interface Route {
  /** The path below /console, e.g. `/agents/agt_…`, always starting with `/`. */
  path: string;
  query: URLSearchParams;
}

function currentRoute(): Route {
  const full = window.location.pathname;
  const below = full.startsWith(BASE) ? full.slice(BASE.length) : full;
  return { path: below === '' ? '/' : below, query: new URLSearchParams(window.location.search) };
}

const RouteContext = createContext<Route>({ path: '/', query: new URLSearchParams() });
const NAVIGATED = 'mandate:navigated';

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${to}`;
  if (options.replace === true) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(NAVIGATED));
}

export function RouterProvider({ children }: { children: React.ReactNode }): React.JSX.Element {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = (): void => {
      setRoute(currentRoute());
    };
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return <RouteContext.Provider value={route}>{children}</RouteContext.Provider>;
}

export function useRoute(): Route {
  return useContext(RouteContext);
}

/** `pattern` like `/agents/:id`; the named segments of a matching path, else null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (const [index, segment] of want.entries()) {
    const actual = have[index] ?? '';
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(actual);
    else if (segment !== actual) return null;
  }
  return params;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string };

/** An anchor with a real href (open in a new tab works) that navigates in place on a plain click. */
export function Link({ to, onClick, children, ...rest }: LinkProps): React.JSX.Element {
  const handle = (event: MouseEvent<HTMLAnchorElement>): void => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={`${BASE}${to}`} onClick={handle} {...rest}>
      {children}
    </a>
  );
}
