/** Data commands: import DBN files, download from Databento, API key, sample dataset, derive bars. */
import * as vscode from 'vscode';
import { mkdirSync } from 'node:fs';
import * as ui from '../ui.ts';
import { dataDir, databentoBaseUrl } from '../settings.ts';
import { SECRET_KEY, type Services } from '../services.ts';
import type { JobOutcome } from '../../engine/jobs/jobQueue.ts';
import type { JobKind, JobResults } from '../../engine/jobs/protocol.ts';
import type { Node } from '../tree/runsTree.ts';

export type CommandResult = { ok: true; [k: string]: unknown } | { ok: false; error: string };

function fail(error: string, show = true): CommandResult {
  if (show) void ui.error(error);
  return { ok: false, error };
}

/** A job's outcome as a command result (its kind's typed result), after refreshing the views (the job wrote the catalog). */
export async function finished<K extends JobKind>(
  s: Services,
  o: JobOutcome<K>,
): Promise<{ ok: true; result: JobResults[K] } | { ok: false; error: string }> {
  s.catalog.refresh();
  if (o.status === 'succeeded') return { ok: true, result: o.result };
  return { ok: false, error: o.status === 'canceled' ? 'canceled' : o.message };
}

export async function importDbnFiles(s: Services, args?: { paths?: string[]; symbol?: string; derive?: boolean }): Promise<CommandResult> {
  let paths = args?.paths;
  if (!paths) {
    const uris = await vscode.window.showOpenDialog({
      canSelectMany: true,
      openLabel: 'Import',
      title: 'Import DBN files (trades / tbbo)',
      filters: { 'DBN files': ['dbn', 'zst', 'dbz'], 'All files': ['*'] },
    });
    if (!uris?.length) return { ok: false, error: 'no files chosen' };
    paths = uris.map((u) => u.fsPath);
  }
  const dir = dataDir();
  mkdirSync(dir, { recursive: true });
  const { outcome } = await s.jobs.run({
    kind: 'ingest',
    title: `Importing ${paths.length} DBN file${paths.length > 1 ? 's' : ''}`,
    params: { dataDir: dir, paths, derive: args?.derive ?? true, ...(args?.symbol ? { symbol: args.symbol } : {}) },
  });
  const r = await finished(s, await outcome);
  if (r.ok) void ui.info(summarizeImport(r.result));
  return r;
}

function summarizeImport(result: JobResults['ingest']): string {
  const ds = result.datasets;
  return ds.length
    ? `Imported ${ds.map((d) => `${d.symbol} (${d.dataset_id}${d.bar_count !== undefined ? `, ${d.bar_count} bars` : ''})`).join(', ')}`
    : 'Import finished';
}

export async function setDatabentoApiKey(s: Services, args?: { key?: string }): Promise<CommandResult> {
  const key =
    args?.key ??
    (await ui.input({
      title: 'Databento API key',
      prompt: 'Stored in VS Code SecretStorage, never in settings or logs',
      password: true,
      placeHolder: 'db-…',
      validateInput: (v) => (/^\S{8,}$/.test(v.trim()) ? undefined : 'expected the key from databento.com (no spaces)'),
    }));
  if (!key) return { ok: false, error: 'no key entered' };
  await s.context.secrets.store(SECRET_KEY, key.trim());
  void ui.info('Databento API key stored in SecretStorage.');
  return { ok: true };
}

async function apiKey(s: Services): Promise<string | undefined> {
  return (await s.context.secrets.get(SECRET_KEY)) ?? process.env.DATABENTO_API_KEY;
}

const DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/;

export interface DownloadArgs {
  dataset?: string;
  symbols?: string[];
  schemas?: ('trades' | 'tbbo')[];
  start?: string;
  end?: string;
  /** Skip the cost confirmation (non-interactive use). */
  confirm?: boolean;
}

export async function downloadDatabento(s: Services, args: DownloadArgs = {}): Promise<CommandResult> {
  let key = await apiKey(s);
  if (!key) {
    const set = await ui.warn('No Databento API key yet.', 'Set API Key');
    if (set !== 'Set API Key') return { ok: false, error: 'no API key' };
    await setDatabentoApiKey(s);
    key = await apiKey(s);
    if (!key) return { ok: false, error: 'no API key' };
  }
  let dataset =
    args.dataset ??
    (
      await ui.pick(
        [
          ...['GLBX.MDP3', 'XNAS.ITCH', 'DBEQ.BASIC', 'XNYS.PILLAR', 'OPRA.PILLAR'].map((label) => ({ label })),
          { label: 'Other…', description: 'type a dataset code' },
        ],
        { title: 'Databento dataset' },
      )
    )?.label;
  if (dataset === 'Other…')
    dataset = (
      await ui.input({
        title: 'Databento dataset code',
        placeHolder: 'e.g. XNAS.ITCH',
        validateInput: (v) => (/^[A-Z0-9]+\.[A-Z0-9]+$/.test(v.trim()) ? undefined : 'expected a dataset code like GLBX.MDP3'),
      })
    )?.trim();
  if (!dataset) return { ok: false, error: 'no dataset' };
  const symbolsText =
    args.symbols?.join(',') ??
    (await ui.input({
      title: 'Symbols (raw_symbol), comma-separated',
      placeHolder: 'ESZ4 or AAPL,MSFT',
      validateInput: (v) => (v.split(',').some((x) => x.trim()) ? undefined : 'at least one symbol'),
    }));
  if (!symbolsText) return { ok: false, error: 'no symbols' };
  const symbols = symbolsText
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const schemas =
    args.schemas ??
    (
      await ui.pick(
        [
          { label: 'trades', picked: true },
          { label: 'tbbo', picked: true },
        ],
        { title: 'Schemas', canPickMany: true },
      )
    )?.map((p) => p.label as 'trades' | 'tbbo');
  if (!schemas?.length) return { ok: false, error: 'no schemas' };
  const validateDate = (v: string) => (DATE.test(v.trim()) ? undefined : 'expected YYYY-MM-DD (UTC) or an ISO-8601 UTC time');
  const start = args.start ?? (await ui.input({ title: 'Start (inclusive, UTC)', placeHolder: 'YYYY-MM-DD', validateInput: validateDate }));
  if (!start) return { ok: false, error: 'no start' };
  const end = args.end ?? (await ui.input({ title: 'End (exclusive, UTC)', placeHolder: 'YYYY-MM-DD', validateInput: validateDate }));
  if (!end) return { ok: false, error: 'no end' };
  if (validateDate(start) || validateDate(end))
    return fail(`Download: dates must be YYYY-MM-DD or ISO-8601 UTC (got start '${start}', end '${end}')`);
  if (Date.parse(end) <= Date.parse(start)) return fail(`Download: end ${end} must be after start ${start}`);
  const baseUrl = databentoBaseUrl();

  // The quote is a few small HTTP calls; the download itself runs in a job.
  let costText = 'unknown';
  let recordsText = '';
  try {
    const [{ HistoricalClient }, { quoteFetch }] = await Promise.all([
      import('../../engine/databento/historicalClient.ts'),
      import('../../engine/databento/fetchFlow.ts'),
    ]);
    const quote = await quoteFetch(new HistoricalClient({ key, baseUrl }), { dataset, symbols, schemas, start, end });
    costText = `$${quote.totalUsd.toFixed(2)}`;
    recordsText = ` (${quote.totalRecords.toLocaleString('en-US')} records, ${(quote.totalBillableBytes / 1e6).toFixed(1)} MB billable)`;
  } catch (err) {
    return fail(`Download: cost query to ${baseUrl} failed: ${(err as Error).message}`);
  }
  const question = `Download ${schemas.join(' + ')} for ${symbols.join(', ')} from ${dataset}, ${start} → ${end}? Estimated cost ${costText}${recordsText}.`;
  if (!args.confirm && !(await ui.confirm(question, 'Download'))) return { ok: false, error: 'declined' };
  const dir = dataDir();
  mkdirSync(dir, { recursive: true });
  const { outcome } = await s.jobs.run({
    kind: 'fetch',
    title: `Downloading ${symbols.join(', ')} (${dataset})`,
    params: { dataDir: dir, apiKey: key, baseUrl, dataset, symbols, schemas, start, end, derive: true },
  });
  const r = await finished(s, await outcome);
  if (r.ok) void ui.info(summarizeImport(r.result));
  return { ...r, ...(r.ok ? { cost: costText } : {}) };
}

export async function generateSampleDataset(
  s: Services,
  args: { symbol?: string; start?: string; days?: number; seed?: number; tradesPerDay?: number } = {},
): Promise<CommandResult> {
  const dir = dataDir();
  mkdirSync(dir, { recursive: true });
  const symbol = args.symbol ?? 'DEMO';
  const { outcome } = await s.jobs.run({
    kind: 'synth',
    title: `Generating sample dataset ${symbol}`,
    params: {
      dataDir: dir,
      symbol,
      start: args.start ?? '2024-03-04',
      days: args.days ?? 5,
      seed: args.seed ?? 1,
      ...(args.tradesPerDay ? { tradesPerDay: args.tradesPerDay } : {}),
    },
  });
  const r = await finished(s, await outcome);
  if (r.ok) void ui.info(summarizeImport(r.result));
  return r;
}

export async function pickDatasetId(s: Services, arg: unknown, title: string): Promise<string | undefined> {
  if (typeof arg === 'string') return arg;
  const node = arg as Node | undefined;
  if (node?.kind === 'dataset') return node.dataset.id;
  const a = arg as { datasetId?: string } | undefined;
  if (a?.datasetId) return a.datasetId;
  const reader = await s.catalog.get();
  const ds = reader?.listDatasets() ?? [];
  if (ds.length === 0) {
    void ui.warn('No datasets yet: generate the sample dataset or import DBN files first.');
    return undefined;
  }
  const picked = await ui.pick(
    ds.map((d) => ({
      label: d.symbol,
      description: `${d.start?.slice(0, 10) ?? '?'} → ${d.end?.slice(0, 10) ?? '?'} · ${d.barCount ?? 'not derived'} bars`,
      detail: d.id,
      id: d.id,
    })),
    { title, matchOnDetail: true },
  );
  return picked?.id;
}

export async function deriveBars(s: Services, arg?: unknown): Promise<CommandResult> {
  const datasetId = await pickDatasetId(s, arg, 'Derive 1-minute bars for dataset');
  if (!datasetId) return { ok: false, error: 'no dataset' };
  const { outcome } = await s.jobs.run({
    kind: 'derive',
    title: `Deriving bars for ${datasetId}`,
    params: { dataDir: dataDir(), datasetId },
  });
  const r = await finished(s, await outcome);
  if (r.ok) void ui.info(`Derived bars for ${datasetId}`);
  return r;
}
