/**
 * Chart colours from the editor theme: VS Code sets --vscode-* CSS variables and a body class
 * (vscode-light, vscode-dark, vscode-high-contrast, vscode-high-contrast-light) in every
 * webview; outside VS Code (a plain browser) the fallbacks below apply.
 */
export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  border: string;
  up: string;
  down: string;
  accent: string;
  equity: string;
  drawdown: string;
  warn: string;
  font: string;
  fontSize: number;
  /** Series colours for comparisons (up to 8 runs). */
  palette: string[];
}

export function themeKind(body: { classList: { contains(c: string): boolean } }): ThemeKind {
  if (body.classList.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (body.classList.contains('vscode-high-contrast')) return 'high-contrast';
  if (body.classList.contains('vscode-dark')) return 'dark';
  if (body.classList.contains('vscode-light')) return 'light';
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Reads the theme from the document's computed CSS variables. */
export function readTheme(doc: Document): Theme {
  const kind = themeKind(doc.body);
  const dark = kind === 'dark' || kind === 'high-contrast';
  const css = getComputedStyle(doc.body);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const fg = v('--vscode-editor-foreground', dark ? '#cccccc' : '#333333');
  return {
    kind,
    background: v('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    foreground: fg,
    muted: v('--vscode-descriptionForeground', dark ? '#9d9d9d' : '#717171'),
    grid: kind.startsWith('high-contrast') ? v('--vscode-contrastBorder', fg) : dark ? 'rgba(255,255,255,0.08)' : 'rgba(0,0,0,0.08)',
    border: v('--vscode-panel-border', dark ? '#3c3c3c' : '#e5e5e5'),
    up: v('--vscode-charts-green', dark ? '#89d185' : '#388a34'),
    down: v('--vscode-charts-red', dark ? '#f48771' : '#e51400'),
    accent: v('--vscode-charts-blue', dark ? '#75beff' : '#1a85ff'),
    equity: v('--vscode-charts-blue', dark ? '#75beff' : '#1a85ff'),
    drawdown: v('--vscode-charts-red', dark ? '#f48771' : '#e51400'),
    warn: v('--vscode-charts-yellow', dark ? '#cca700' : '#bf8803'),
    font: v('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: Number.parseFloat(v('--vscode-font-size', '13')) || 13,
    palette: [
      '--vscode-charts-blue',
      '--vscode-charts-orange',
      '--vscode-charts-green',
      '--vscode-charts-purple',
      '--vscode-charts-red',
      '--vscode-charts-yellow',
    ]
      .map((n, k) => v(n, ['#1a85ff', '#d18616', '#388a34', '#652d90', '#e51400', '#bf8803'][k]!))
      .concat(dark ? ['#4ec9b0', '#c586c0'] : ['#16825d', '#af00db']),
  };
}

/** Watches the body class (VS Code switches it on a theme change) and calls back with the new theme. */
export function watchTheme(doc: Document, onChange: (t: Theme) => void): () => void {
  let last = '';
  const obs = new MutationObserver(() => {
    const key = doc.body.className;
    if (key === last) return;
    last = key;
    onChange(readTheme(doc));
  });
  last = doc.body.className;
  obs.observe(doc.body, { attributes: true, attributeFilter: ['class'] });
  return () => obs.disconnect();
}

/** `#rrggbb` or `rgb(…)` with an alpha. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (m) {
    const n = Number.parseInt(m[1]!, 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
  }
  const r = /^rgba?\(([^)]+)\)$/.exec(color.trim());
  if (r) {
    const [a, b, c] = r[1]!.split(',').map((x) => x.trim());
    return `rgba(${a},${b},${c},${alpha})`;
  }
  return color;
}
