// Download progress for the CLI: a redrawn bar on a TTY, throttled plain lines otherwise.
import type { DownloadProgress } from './historicalClient.ts';

export interface TextSink {
  write(s: string): unknown;
}

/** Decimal units, as Databento quotes sizes: 999 B, 1.50 kB, 12.3 MB, 1.20 GB. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

/** US dollars with cents; sub-cent non-zero amounts say so rather than printing $0.00. */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.005) return '<$0.01';
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Renders DownloadProgress events for one schema. TTY: one line redrawn at most every
 * `intervalMs` (bar when the size is known, else bytes + rate). Otherwise: a plain line every
 * `logEveryMs`. `finish()` prints the final line either way.
 */
export class ProgressRenderer {
  private lastDraw = -Infinity;
  private attempt = 1;
  private attemptStart = 0;
  private last: DownloadProgress | null = null;
  private drewTty = false;

  private readonly out: TextSink;
  private readonly label: string;
  private readonly tty: boolean;
  private readonly opts: { intervalMs?: number; logEveryMs?: number; width?: number };

  constructor(out: TextSink, label: string, tty: boolean, opts: { intervalMs?: number; logEveryMs?: number; width?: number } = {}) {
    this.out = out;
    this.label = label;
    this.tty = tty;
    this.opts = opts;
  }

  update(p: DownloadProgress): void {
    if (p.attempt !== this.attempt) {
      this.attempt = p.attempt;
      this.attemptStart = p.elapsedMs;
      this.lastDraw = -Infinity;
    }
    this.last = p;
    const every = this.tty ? (this.opts.intervalMs ?? 100) : (this.opts.logEveryMs ?? 5000);
    if (p.done || p.elapsedMs - this.lastDraw < every) return;
    this.lastDraw = p.elapsedMs;
    if (this.tty) {
      this.out.write(`\r${this.line(p)}\x1b[K`);
      this.drewTty = true;
    } else if (p.bytes > 0) {
      this.out.write(`${this.line(p)}\n`);
    }
  }

  /** Final line for a completed download (bytes, time, rate). */
  finish(extra = ''): void {
    const p = this.last;
    const text = p
      ? `${this.label}: ${formatBytes(p.bytes)} in ${(p.elapsedMs / 1000).toFixed(1)} s (${this.rate(p)})${extra}`
      : `${this.label}: done${extra}`;
    this.out.write(this.tty && this.drewTty ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  /** Ends a redrawn line before an error message is printed under it. */
  interrupt(): void {
    if (this.tty && this.drewTty) this.out.write('\n');
    this.drewTty = false;
  }

  private rate(p: DownloadProgress): string {
    const secs = (p.elapsedMs - this.attemptStart) / 1000;
    return secs > 0 ? `${formatBytes(Math.round(p.bytes / secs))}/s` : '—';
  }

  private line(p: DownloadProgress): string {
    const retry = p.attempt > 1 ? `  (attempt ${p.attempt})` : '';
    const time = formatDuration(p.elapsedMs);
    if (p.totalBytes && this.tty) {
      const width = this.opts.width ?? 24;
      const frac = Math.min(1, p.bytes / p.totalBytes);
      const fill = Math.round(frac * width);
      const bar = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}]`;
      return `${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)}  ${this.rate(p)}  ${time}${retry}`;
    }
    const total = p.totalBytes ? ` / ${formatBytes(p.totalBytes)}` : '';
    return `${this.label}: ${formatBytes(p.bytes)}${total}  ${this.rate(p)}  ${time}${retry}`;
  }
}
