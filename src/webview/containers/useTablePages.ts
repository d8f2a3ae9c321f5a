/** Rows of a run table (orders, fills, trades) fetched page by page as a virtual table scrolls. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Requests, type TableName, type TablePage } from '../../engine/views/protocol.ts';
import type { HostClient } from '../services/hostClient.ts';

const PAGE = 200;
export type Row = Record<string, number | string | null>;

export interface TablePages {
  total: number | null;
  row: (i: number) => Row | undefined;
  need: (first: number, last: number) => void;
  error: string | null;
}

export function useTablePages(
  host: HostClient,
  runId: string,
  table: TableName,
  sort: { column: string; dir: 'asc' | 'desc' } | undefined,
  enabled: boolean,
): TablePages {
  const [, bump] = useState(0);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pages = useRef(new Map<number, TablePage | 'loading'>());
  const key = `${runId}|${table}|${sort?.column ?? ''}|${sort?.dir ?? ''}`;
  const current = useRef(key);

  useEffect(() => {
    current.current = key;
    pages.current = new Map();
    setTotal(null);
    setError(null);
    if (enabled) load(0);
  }, [key, enabled]);

  function load(p: number) {
    if (pages.current.has(p)) return;
    pages.current.set(p, 'loading');
    const k = key;
    host.request(Requests.runTable, { runId, table, offset: p * PAGE, limit: PAGE, ...(sort ? { sort } : {}) }).then(
      (page) => {
        if (current.current !== k) return;
        pages.current.set(p, page);
        setTotal(page.total);
        bump((n) => n + 1);
      },
      (err: Error) => {
        pages.current.delete(p);
        if (current.current === k) setError(err.message);
      },
    );
  }

  return {
    total,
    error,
    row(i) {
      const pg = pages.current.get(Math.floor(i / PAGE));
      if (!pg || pg === 'loading') return undefined;
      const r = i - pg.offset;
      const out: Row = {};
      for (const c of pg.columns) out[c] = pg.rows[c]![r] ?? null;
      return out;
    },
    need(first, last) {
      for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) load(p);
    },
  };
}
