/** Accessible tabs (arrow keys move between them); the panel is the caller's children. */
import type { ComponentChildren } from 'preact';

export interface TabsProps<K extends string> {
  tabs: { key: K; label: string }[];
  active: K;
  onChange: (key: K) => void;
  label: string;
  children: ComponentChildren;
}

export function Tabs<K extends string>(p: TabsProps<K>) {
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const k = p.tabs.findIndex((t) => t.key === p.active);
    const next = p.tabs[(k + (e.key === 'ArrowRight' ? 1 : p.tabs.length - 1)) % p.tabs.length]!;
    p.onChange(next.key);
    e.preventDefault();
    requestAnimationFrame(() => document.getElementById(`tab-${next.key}`)?.focus());
  };
  return (
    <div class="tabs">
      <div role="tablist" aria-label={p.label} onKeyDown={onKey}>
        {p.tabs.map((t) => (
          <button
            type="button"
            role="tab"
            id={`tab-${t.key}`}
            key={t.key}
            aria-selected={t.key === p.active}
            aria-controls={`panel-${t.key}`}
            tabIndex={t.key === p.active ? 0 : -1}
            class={t.key === p.active ? 'tab active' : 'tab'}
            onClick={() => p.onChange(t.key)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${p.active}`} aria-labelledby={`tab-${p.active}`} class="tab-panel">
        {p.children}
      </div>
    </div>
  );
}
