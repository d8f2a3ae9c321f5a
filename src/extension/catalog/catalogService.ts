/**
 * The host's window on the catalog: opened lazily (better-sqlite3 loads only when a view
 * needs it), and live: fs.watch on the data dir (catalog.sqlite, -wal) debounced 200 ms, then
 * the catalog's cheap change counter decides whether anything really changed. This catches
 * writes by our own jobs and by the `btnb` CLI in a terminal without polling any table.
 */
import * as vscode from 'vscode';
import { existsSync, mkdirSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { dataPaths } from '../../engine/dataDir.ts';
import type { CatalogReader } from './model.ts';

export type CatalogOpener = (catalogPath: string) => Promise<CatalogReader>;

const DEBOUNCE_MS = 200;

export class CatalogService implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  /** Fires after the catalog changed (counter moved) or the data dir setting changed. */
  readonly onDidChange = this.emitter.event;
  private reader: CatalogReader | undefined;
  private opening: Promise<CatalogReader | undefined> | undefined;
  private watcher: FSWatcher | undefined;
  private ancestorWatcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastCounter = -1;
  private dir: string;
  private readonly opener: CatalogOpener;
  private readonly log: (s: string) => void;
  /** Number of refresh events fired; tests read it to tell a refresh happened. */
  refreshes = 0;

  constructor(dir: string, opener: CatalogOpener, log: (s: string) => void) {
    this.dir = dir;
    this.opener = opener;
    this.log = log;
    this.arm();
  }

  get dataDir(): string {
    return this.dir;
  }

  setDataDir(dir: string): void {
    if (dir === this.dir) return;
    this.closeAll();
    this.dir = dir;
    this.arm();
    this.fire();
  }

  /** The reader, or undefined while no catalog file exists (nothing imported yet). */
  async get(): Promise<CatalogReader | undefined> {
    if (this.reader) return this.reader;
    if (!existsSync(dataPaths(this.dir).catalog)) return undefined;
    const dir = this.dir;
    this.opening ??= this.opener(dataPaths(dir).catalog)
      .then(
        (r) => {
          if (dir !== this.dir) {
            // The data dir setting changed while this one was opening.
            r.close();
            return undefined;
          }
          this.reader = r;
          return r;
        },
        (err: unknown) => {
          this.log(`catalog: cannot open ${dataPaths(this.dir).catalog}: ${(err as Error).message}`);
          return undefined;
        },
      )
      .finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** Opens (creating the data dir) for commands that write. */
  async require(): Promise<CatalogReader> {
    mkdirSync(this.dir, { recursive: true });
    const r = (await this.get()) ?? (await this.opener(dataPaths(this.dir).catalog));
    this.reader ??= r;
    this.arm();
    return r;
  }

  /** Explicit refresh (the Refresh command): always fires. */
  refresh(): void {
    this.fire();
  }

  private fire(): void {
    this.refreshes++;
    this.emitter.fire();
  }

  private arm(): void {
    if (this.watcher) return;
    if (!existsSync(this.dir)) {
      // The data dir appears with the first import: watch its nearest existing ancestor (no
      // polling) and re-arm when anything there changes.
      if (this.ancestorWatcher) return;
      let anc = dirname(this.dir);
      while (!existsSync(anc) && dirname(anc) !== anc) anc = dirname(anc);
      try {
        this.ancestorWatcher = watch(anc, { persistent: false }, () => this.rearmFromAncestor());
      } catch (err) {
        this.log(`catalog: cannot watch ${anc}: ${(err as Error).message}`);
        return;
      }
      // `mkdir -p` may have created the next level between the existence check and the watch
      // (its event then never reaches this watcher): look once more now the watch is live.
      if (existsSync(this.dir) || existsSync(childToward(anc, this.dir))) this.rearmFromAncestor();
      return;
    }
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, name) => {
        if (name === null || String(name).startsWith('catalog.sqlite')) this.onFsEvent();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
        setTimeout(() => this.arm(), 1000).unref();
      });
    } catch (err) {
      this.log(`catalog: cannot watch ${this.dir}: ${(err as Error).message}`);
    }
  }

  private rearmFromAncestor(): void {
    this.ancestorWatcher?.close();
    this.ancestorWatcher = undefined;
    this.arm();
    // The catalog may have been written before the data dir's own watcher was live.
    if (this.watcher) this.onFsEvent();
  }

  private onFsEvent(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.checkCounter(), DEBOUNCE_MS);
  }

  private async checkCounter(): Promise<void> {
    const r = await this.get();
    if (!r) return;
    let c: number;
    try {
      c = r.changeCounter();
    } catch (err) {
      this.log(`catalog: change counter: ${(err as Error).message}`);
      return;
    }
    if (c !== this.lastCounter) {
      this.lastCounter = c;
      this.fire();
    }
  }

  private closeAll(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.ancestorWatcher?.close();
    this.ancestorWatcher = undefined;
    if (this.debounce) clearTimeout(this.debounce);
    try {
      this.reader?.close();
    } catch {
      /* already closed */
    }
    this.reader = undefined;
    this.lastCounter = -1;
  }

  dispose(): void {
    this.closeAll();
    this.emitter.dispose();
  }
}

/** The path one level below `ancestor` on the way to `target`. */
function childToward(ancestor: string, target: string): string {
  let p = target;
  while (dirname(p) !== ancestor && dirname(p) !== p) p = dirname(p);
  return p;
}
