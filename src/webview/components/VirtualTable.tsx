/**
 * A virtualised, sortable, keyboard-driven table: only the rows in view (plus a margin) are in
 * the DOM, whatever the row count; rows the caller has not loaded yet show as placeholders and
 * `onRange` says which rows are needed. ARIA grid semantics; arrows move, Enter activates,
 * Space toggles selection.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Column<R> {
  key: string;
  label: string;
  width: number;
  align?: 'left' | 'right';
  sortable?: boolean;
  title?: string;
  render: (row: R) => ComponentChildren;
}

export interface VirtualTableProps<R> {
  label: string;
  columns: Column<R>[];
  rowCount: number;
  row: (index: number) => R | undefined;
  rowKey: (row: R | undefined, index: number) => string;
  onRange?: (first: number, last: number) => void;
  sort?: { key: string; dir: 'asc' | 'desc' };
  onSort?: (key: string) => void;
  isSelected?: (row: R) => boolean;
  /** Click (or Enter) on a row; `mods` says whether Ctrl/Cmd or Shift was held. */
  onActivate?: (row: R, index: number, mods: { toggle: boolean; range: boolean }) => void;
  onToggle?: (row: R, index: number) => void;
  /** `data-vscode-context` of a row (VS Code's webview context menu). */
  context?: (row: R) => Record<string, unknown>;
  /** Scrolls this row into view when it changes. */
  scrollTo?: number | null;
  /** Row to highlight (e.g. the one the chart points at). */
  highlight?: number | null;
  rowHeight?: number;
  class?: string;
  empty?: ComponentChildren;
}

const OVERSCAN = 8;

export function VirtualTable<R>(p: VirtualTableProps<R>) {
  const rh = p.rowHeight ?? 24;
  const body = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [left, setLeft] = useState(0);
  const [height, setHeight] = useState(400);
  const [focus, setFocus] = useState(0);
  const lastRange = useRef('');

  useLayoutEffect(() => {
    const el = body.current!;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scroll / rh) - OVERSCAN);
  const last = Math.min(p.rowCount - 1, Math.ceil((scroll + height) / rh) + OVERSCAN);

  useEffect(() => {
    const key = `${first}:${last}:${p.rowCount}`;
    if (key !== lastRange.current && p.rowCount > 0) {
      lastRange.current = key;
      p.onRange?.(first, last);
    }
  });

  useEffect(() => {
    if (p.scrollTo === null || p.scrollTo === undefined || !body.current) return;
    const el = body.current;
    const top = p.scrollTo * rh;
    if (top < el.scrollTop || top + rh > el.scrollTop + el.clientHeight) el.scrollTop = Math.max(0, top - el.clientHeight / 3);
    setFocus(p.scrollTo);
  }, [p.scrollTo]);

  const moveFocus = (k: number) => {
    const n = Math.max(0, Math.min(p.rowCount - 1, k));
    setFocus(n);
    const el = body.current!;
    if (n * rh < el.scrollTop) el.scrollTop = n * rh;
    else if ((n + 1) * rh > el.scrollTop + el.clientHeight) el.scrollTop = (n + 1) * rh - el.clientHeight;
  };

  const onKey = (e: KeyboardEvent) => {
    const page = Math.max(1, Math.floor(height / rh) - 1);
    const r = p.row(focus);
    switch (e.key) {
      case 'ArrowDown':
        moveFocus(focus + 1);
        break;
      case 'ArrowUp':
        moveFocus(focus - 1);
        break;
      case 'PageDown':
        moveFocus(focus + page);
        break;
      case 'PageUp':
        moveFocus(focus - page);
        break;
      case 'Home':
        moveFocus(0);
        break;
      case 'End':
        moveFocus(p.rowCount - 1);
        break;
      case 'Enter':
        if (r) p.onActivate?.(r, focus, { toggle: e.ctrlKey || e.metaKey, range: e.shiftKey });
        break;
      case ' ':
        if (r) p.onToggle?.(r, focus);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const width = p.columns.reduce((s, c) => s + c.width, 0);
  const rows = [];
  for (let i = first; i <= last; i++) {
    const r = p.row(i);
    const selected = r !== undefined && (p.isSelected?.(r) ?? false);
    const cls = `vrow${i === focus ? ' focused' : ''}${selected ? ' selected' : ''}${i === p.highlight ? ' highlight' : ''}${r === undefined ? ' loading' : ''}`;
    rows.push(
      <div
        role="row"
        aria-rowindex={i + 2}
        aria-selected={selected}
        class={cls}
        key={p.rowKey(r, i)}
        style={{ top: `${i * rh}px`, height: `${rh}px`, width: `${width}px` }}
        data-row={i}
        data-vscode-context={r && p.context ? JSON.stringify(p.context(r)) : undefined}
        onClick={(e) => {
          setFocus(i);
          if (r) p.onActivate?.(r, i, { toggle: e.ctrlKey || e.metaKey, range: e.shiftKey });
        }}
      >
        {p.columns.map((c) => (
          <div role="gridcell" class={`vcell ${c.align === 'right' ? 'num' : ''}`} style={{ width: `${c.width}px` }} key={c.key}>
            {r === undefined ? (c === p.columns[0] ? '…' : '') : c.render(r)}
          </div>
        ))}
      </div>,
    );
  }

  return (
    <div class={`vtable ${p.class ?? ''}`} role="grid" aria-label={p.label} aria-rowcount={p.rowCount + 1} aria-colcount={p.columns.length}>
      <div class="vhead-wrap">
        <div role="row" aria-rowindex={1} class="vhead" style={{ width: `${width}px`, transform: `translateX(${-left}px)` }}>
          {p.columns.map((c) => {
            const sorted = p.sort?.key === c.key ? p.sort.dir : null;
            return (
              <div
                role="columnheader"
                key={c.key}
                class={`vcell ${c.align === 'right' ? 'num' : ''}`}
                style={{ width: `${c.width}px` }}
                title={c.title}
                aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
              >
                {c.sortable && p.onSort ? (
                  <button type="button" class="sort-button" onClick={() => p.onSort!(c.key)}>
                    {c.label}
                    <span class="sort-mark" aria-hidden="true">
                      {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}
                    </span>
                  </button>
                ) : (
                  c.label
                )}
              </div>
            );
          })}
        </div>
      </div>
      <div
        class="vbody"
        ref={body}
        tabIndex={0}
        onKeyDown={onKey}
        onScroll={(e) => {
          const el = e.target as HTMLDivElement;
          setScroll(el.scrollTop);
          setLeft(el.scrollLeft);
        }}
      >
        {p.rowCount === 0 && p.empty ? <div class="vempty">{p.empty}</div> : null}
        <div class="vspacer" style={{ height: `${p.rowCount * rh}px`, width: `${width}px` }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
