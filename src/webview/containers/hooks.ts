/** Shared container plumbing: the host client, the theme, the display zone and persisted view state. */
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { Notifications } from '../../engine/views/protocol.ts';
import type { HostClient } from '../services/hostClient.ts';
import { readTheme, watchTheme, type Theme } from '../lib/theme.ts';

export const HostContext = createContext<HostClient | null>(null);

export function useHost(): HostClient {
  const h = useContext(HostContext);
  if (!h) throw new Error('HostContext missing');
  return h;
}

/** The editor theme, re-read when VS Code switches it. */
export function useTheme(): Theme {
  const [theme, setTheme] = useState(() => readTheme(document));
  useEffect(() => watchTheme(document, setTheme), []);
  return theme;
}

/** The display time zone (btnb.displayTimeZone), pushed by the host. */
export function useDisplayTz(initial: string): string {
  const host = useHost();
  const [tz, setTz] = useState(initial);
  useEffect(() => host.on(Notifications.settings, (s) => setTz(s.displayTz)), [host]);
  return tz;
}

/** State kept in the webview's saved state (survives hiding the panel and a window reload). */
export function usePersisted<T extends object>(key: string, initial: T): [T, (patch: Partial<T>) => void] {
  const host = useHost();
  const [value, setValue] = useState<T>(() => ({ ...initial, ...(host.getState<Record<string, T>>()?.[key] ?? {}) }));
  const latest = useRef(value);
  const update = (patch: Partial<T>) => {
    const next = { ...latest.current, ...patch };
    latest.current = next;
    setValue(next);
    host.setState({ ...(host.getState<Record<string, unknown>>() ?? {}), [key]: next });
  };
  return [value, update];
}

/** Calls fn after `ms` without new calls (the last arguments win). */
export function useDebounced<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const f = useRef(fn);
  f.current = fn;
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return (...args: A) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => f.current(...args), ms);
  };
}

/** Width of an element, tracked. */
export function useWidth(ref: { current: HTMLElement | null }, fallback = 1000): number {
  const [w, setW] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setW(el.clientWidth || fallback));
    ro.observe(el);
    setW(el.clientWidth || fallback);
    return () => ro.disconnect();
  }, [ref.current]);
  return w;
}
