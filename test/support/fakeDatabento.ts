// A fake Databento historical API on 127.0.0.1 for tests (unit and extension tests alike).
//
//   const fake = await startFakeDatabento({ key: 'db-TESTKEY…', files: { trades: path, tbbo: path } });
//   … point the client/CLI at fake.url (env DATABENTO_BASE_URL or --base-url) …
//   fake.requests   // every request: endpoint, parsed form, auth ok?, status answered, fault applied
//   await fake.close();
//
// What it does, like the real API (DBN brief §12):
// - POST /v0/metadata.get_cost | get_record_count | get_billable_size → JSON number; the record
//   count and billable size (uncompressed record bytes) are computed from the served file, the
//   cost is billable bytes / 1e9 × usdPerGb.
// - POST /v0/timeseries.get_range → the file's zstd DBN bytes, streamed chunked (no
//   Content-Length unless `contentLength: true`), `chunkSize` bytes per write so a fault can
//   land mid-file even for 200-byte fixtures. Raw `.dbn` files are zstd-compressed on load.
// - Auth: HTTP Basic with the key as username and an empty password; anything else → 401
//   `{"detail":"Authentication failed."}`.
// - Parameters: missing dataset/symbols/schema/start → 400 `{"detail": "…"}`; a schema with no
//   file, a dataset or symbols not in the file, end ≤ start, start before `availableStart`,
//   encoding ≠ dbn or compression ≠ zstd → 422 in the nested shape
//   `{"detail": {"case","message","status_code","docs","payload"}}`.
// - Faults, consumed in order (each `times` times, default 1), matched by endpoint/schema when given:
//   `status` (e.g. 429 + retryAfter, 500, 503, any body), `delay` (ms before the headers),
//   `drop` (socket destroyed after `afterBytes` body bytes), `truncate` (response ended cleanly
//   after `afterBytes`: only the zstd framing reveals it), `stall` (pause `ms` after
//   `afterBytes`), `partial` (HTTP 206 + an X-Warning).
// Self-contained: Node built-ins only (zstd via zlib, or /usr/bin/zstd for multi-frame files).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export type FakeEndpoint =
  | 'timeseries.get_range'
  | 'metadata.get_cost'
  | 'metadata.get_record_count'
  | 'metadata.get_billable_size'
  | 'batch.submit_job'
  | 'batch.list_jobs'
  | 'batch.list_files'
  | 'batch.download';

/** `endpoint`/`schema` restrict which requests a fault hits; `times` (default 1) how many. */
export type FakeFault = { endpoint?: FakeEndpoint; schema?: string; times?: number } & (
  | { kind: 'status'; status: number; retryAfter?: string; body?: string | object; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop'; afterBytes: number }
  | { kind: 'truncate'; afterBytes: number }
  | { kind: 'stall'; afterBytes: number; ms: number }
  | { kind: 'partial'; warning?: string }
  /** batch.download: one byte of the body flipped (the file no longer matches its listed SHA-256). */
  | { kind: 'corrupt'; atByte: number }
);

export interface FakeDatabentoOptions {
  key: string;
  /** schema name → DBN file (zstd or raw) to serve for it. */
  files: Partial<Record<string, string>>;
  faults?: FakeFault[];
  /** Cost = billable bytes / 1e9 × usdPerGb (default 10). */
  usdPerGb?: number;
  /** Earliest start accepted (ISO date/time, default 2010-06-06). */
  availableStart?: string;
  /** X-Warning entries sent with every successful answer. */
  warnings?: string[];
  /** Send Content-Length on get_range (default false: chunked, as Databento streams). */
  contentLength?: boolean;
  /** Bytes per body write (default 64). */
  chunkSize?: number;
  /** batch.list_jobs polls a job takes to reach 'done' (received → queued → processing → done; default 3). */
  batchPolls?: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  endpoint: string;
  form: Record<string, string>;
  /** The raw Authorization header (tests assert its exact form). */
  authorization: string | undefined;
  authOk: boolean;
  /** Status answered (0 until the answer is sent; stays 0 for a pure drop before headers). */
  status: number;
  fault: FakeFault['kind'] | null;
  /** Body bytes written (get_range, batch.download). */
  bytesSent: number;
  /** The Range header of a batch.download. */
  range: string | undefined;
}

export interface ServedFile {
  /** Exactly the bytes get_range sends. */
  bytes: Buffer;
  dataset: string;
  symbols: string[];
  recordCount: number;
  /** Uncompressed record bytes (what Databento bills). */
  billableSize: number;
}

export interface FakeDatabento {
  url: string;
  requests: FakeRequest[];
  served: Record<string, ServedFile>;
  /** Cost in USD the fake quotes for a schema (whole file). */
  costOf(schema: string): number;
  addFault(f: FakeFault): void;
  close(): Promise<void>;
}

const DOCS = 'https://databento.com/docs/api-reference-historical';

export async function startFakeDatabento(opts: FakeDatabentoOptions): Promise<FakeDatabento> {
  const served: Record<string, ServedFile> = {};
  for (const [schema, path] of Object.entries(opts.files)) if (path) served[schema] = loadServedFile(path);
  const faults: (FakeFault & { left: number })[] = (opts.faults ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
  const requests: FakeRequest[] = [];
  const usdPerGb = opts.usdPerGb ?? 10;
  const availableStartMs = Date.parse(withZone(opts.availableStart ?? '2010-06-06'));
  const expectedAuth = `Basic ${Buffer.from(`${opts.key}:`).toString('base64')}`;
  const chunkSize = opts.chunkSize ?? 64;
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((r) => {
      const t = setTimeout(() => {
        timers.delete(t);
        r();
      }, ms);
      timers.add(t);
    });
  const costOf = (schema: string): number => (served[schema]!.billableSize / 1e9) * usdPerGb;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => res.destroy());
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const endpoint = url.pathname.replace(/^\/v0\//, '');
    const form = Object.fromEntries(new URLSearchParams(body || url.search.slice(1)));
    const authorization = req.headers.authorization;
    const rec: FakeRequest = {
      method: req.method ?? '',
      path: url.pathname,
      endpoint,
      form,
      authorization,
      authOk: authorization === expectedAuth,
      status: 0,
      fault: null,
      bytesSent: 0,
      range: req.headers.range,
    };
    requests.push(rec);
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
      rec.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `fake-${requests.length}`, ...headers });
      res.end(JSON.stringify(value));
    };
    const nested = (status: number, kase: string, message: string, payload: unknown = {}): void =>
      json(status, { detail: { case: kase, message, status_code: status, docs: DOCS, payload } });

    if (url.pathname.startsWith('/v0/batch')) return batch(req, res, url, endpoint, form, rec, json);
    const known: string[] = ['timeseries.get_range', 'metadata.get_cost', 'metadata.get_record_count', 'metadata.get_billable_size'];
    if (!url.pathname.startsWith('/v0/') || !known.includes(endpoint)) return json(404, { detail: 'Not Found' });
    if (req.method !== 'POST') return json(405, { detail: 'Method Not Allowed' });
    if (!rec.authOk) return json(401, { detail: 'Authentication failed.' });

    for (const name of ['dataset', 'symbols', 'schema', 'start']) {
      if (!form[name]) return json(400, { detail: `Missing required parameter \`${name}\`.` });
    }
    const file = served[form.schema!];
    if (!file)
      return nested(
        422,
        'schema_unavailable',
        `Schema '${form.schema}' is not available in this fake (serving ${Object.keys(served).join(', ')}).`,
      );
    if (form.dataset !== file.dataset)
      return nested(422, 'dataset_invalid', `Dataset '${form.dataset}' is not valid for the served ${form.schema} file (${file.dataset}).`);
    const startMs = parseTime(form.start!);
    if (startMs === null) return nested(422, 'start_invalid', `Invalid \`start\` '${form.start}'.`);
    if (startMs < availableStartMs) {
      return nested(
        422,
        'data_start_before_available_start',
        `The dataset ${form.dataset} has data available from ${opts.availableStart ?? '2010-06-06'}. Try a later \`start\`.`,
        { start: form.start },
      );
    }
    if (form.end) {
      const endMs = parseTime(form.end);
      if (endMs === null) return nested(422, 'end_invalid', `Invalid \`end\` '${form.end}'.`);
      if (endMs <= startMs) return nested(422, 'end_before_start', `\`end\` ${form.end} must be after \`start\` ${form.start}.`);
    }
    const symbols = form.symbols!.split(',');
    if (form.symbols !== 'ALL_SYMBOLS' && !symbols.some((s) => file.symbols.includes(s))) {
      return nested(422, 'symbology_invalid_request', `None of the symbols could be resolved: ${form.symbols}.`, { symbols });
    }
    if (endpoint === 'timeseries.get_range' && (form.encoding !== 'dbn' || form.compression !== 'zstd')) {
      return nested(
        422,
        'encoding_unsupported',
        `This fake serves encoding=dbn compression=zstd only, got encoding=${form.encoding} compression=${form.compression}.`,
      );
    }

    const fi = faults.findIndex(
      (f) => f.left > 0 && (f.endpoint === undefined || f.endpoint === endpoint) && (f.schema === undefined || f.schema === form.schema),
    );
    const fault = fi >= 0 ? faults[fi]! : null;
    if (fault) {
      fault.left--;
      rec.fault = fault.kind;
    }
    if (fault?.kind === 'status') {
      rec.status = fault.status;
      const headers: Record<string, string> = { 'request-id': `fake-${requests.length}`, ...fault.headers };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      const text =
        fault.body === undefined
          ? JSON.stringify({ detail: http.STATUS_CODES[fault.status] ?? 'error' })
          : typeof fault.body === 'string'
            ? fault.body
            : JSON.stringify(fault.body);
      res.writeHead(fault.status, { 'content-type': typeof fault.body === 'string' ? 'text/plain' : 'application/json', ...headers });
      res.end(text);
      return;
    }
    if (fault?.kind === 'delay') {
      await sleep(fault.ms);
      if (res.destroyed || req.socket.destroyed) return;
    }
    const warningHeaders: Record<string, string> = {};
    const warnings = [...(opts.warnings ?? [])];
    if (fault?.kind === 'partial') warnings.push(fault.warning ?? `Some symbols were only partially resolved: ${form.symbols}.`);
    if (warnings.length) warningHeaders['x-warning'] = JSON.stringify(warnings);

    if (endpoint !== 'timeseries.get_range') {
      const limit = form.limit ? Number(form.limit) : Infinity;
      const count = Math.min(file.recordCount, limit);
      const perRecord = file.recordCount ? file.billableSize / file.recordCount : 0;
      const size = count === file.recordCount ? file.billableSize : Math.round(count * perRecord);
      const value =
        endpoint === 'metadata.get_record_count' ? count : endpoint === 'metadata.get_billable_size' ? size : (size / 1e9) * usdPerGb;
      return json(200, value, warningHeaders);
    }

    const status = fault?.kind === 'partial' ? 206 : 200;
    rec.status = status;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'request-id': `fake-${requests.length}`,
      ...warningHeaders,
    };
    if (opts.contentLength) headers['content-length'] = String(file.bytes.length);
    res.writeHead(status, headers);
    const bytes = file.bytes;
    const cut =
      fault && (fault.kind === 'drop' || fault.kind === 'truncate' || fault.kind === 'stall')
        ? Math.min(fault.afterBytes, bytes.length)
        : -1;
    let off = 0;
    while (off < bytes.length) {
      if (res.destroyed) return;
      if (off === cut) {
        if (fault!.kind === 'stall') await sleep((fault as { ms: number }).ms);
        else if (fault!.kind === 'truncate' && !opts.contentLength) return void res.end();
        else return void req.socket.destroy(); // drop (and truncate with Content-Length)
        if (res.destroyed) return;
      }
      const end = Math.min(bytes.length, off + chunkSize, cut > off ? cut : bytes.length);
      await new Promise<void>((r) => res.write(bytes.subarray(off, end), () => r()));
      rec.bytesSent += end - off;
      off = end;
      await new Promise<void>((r) => setImmediate(r));
    }
    res.end();
  }

  // ---- batch API: jobs that take `batchPolls` polls, files with size + sha256, downloads with Range ----
  const jobs = new Map<string, { schema: string; polls: number; dataset: string }>();
  const takeFault = (endpoint: string): FakeFault | null => {
    const f = faults.find((x) => x.left > 0 && (x.endpoint === undefined || x.endpoint === endpoint));
    if (!f) return null;
    f.left--;
    return f;
  };
  const fileName = (id: string, schema: string) => `${id}.${schema}.dbn.zst`;
  async function batch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    endpoint: string,
    form: Record<string, string>,
    rec: FakeRequest,
    json: (status: number, value: unknown, headers?: Record<string, string>) => void,
  ): Promise<void> {
    if (!rec.authOk) return json(401, { detail: 'Authentication failed.' });
    const isDownload = url.pathname.startsWith('/v0/batch/download/');
    if (isDownload) rec.endpoint = 'batch.download';
    const fault = takeFault(rec.endpoint);
    if (fault) rec.fault = fault.kind;
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
      return json(fault.status, fault.body ?? { detail: http.STATUS_CODES[fault.status] ?? 'error' }, headers);
    }
    if (endpoint === 'batch.submit_job') {
      if (req.method !== 'POST') return json(405, { detail: 'Method Not Allowed' });
      const file = served[form.schema ?? ''];
      if (!file || form.dataset !== file.dataset) return json(422, { detail: `No ${form.schema} file for ${form.dataset} in this fake.` });
      if (form.encoding !== 'dbn' || form.compression !== 'zstd')
        return json(422, { detail: 'This fake serves encoding=dbn compression=zstd only.' });
      const id = `${file.dataset.replace('.', '-')}-2026${String(jobs.size + 1).padStart(4, '0')}`;
      jobs.set(id, { schema: form.schema!, polls: 0, dataset: file.dataset });
      return json(200, { id, state: 'received', cost_usd: costOf(form.schema!), split_duration: form.split_duration ?? null });
    }
    if (req.method !== 'GET') return json(405, { detail: 'Method Not Allowed' });
    if (endpoint === 'batch.list_jobs') {
      const states = ['received', 'queued', 'processing'];
      return json(
        200,
        [...jobs].map(([id, j]) => {
          j.polls++;
          return { id, state: j.polls >= (opts.batchPolls ?? 3) ? 'done' : states[Math.min(j.polls - 1, 2)], cost_usd: costOf(j.schema) };
        }),
      );
    }
    if (endpoint === 'batch.list_files') {
      const id = url.searchParams.get('job_id') ?? '';
      const j = jobs.get(id);
      if (!j) return json(404, { detail: `Job ${id} not found.` });
      const bytes = served[j.schema]!.bytes;
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v0/batch/download/${id}`;
      const manifest = Buffer.from('{"files":1}');
      const hash = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
      return json(200, [
        { filename: 'manifest.json', size: manifest.length, hash: hash(manifest), urls: { https: `${base}/manifest.json` } },
        { filename: fileName(id, j.schema), size: bytes.length, hash: hash(bytes), urls: { https: `${base}/${fileName(id, j.schema)}` } },
      ]);
    }
    if (!isDownload) return json(404, { detail: 'Not Found' });
    const [, , , , id = '', name = ''] = url.pathname.split('/');
    const j = jobs.get(id);
    if (!j || name !== fileName(id, j.schema)) return json(404, { detail: 'Not Found' });
    let bytes = served[j.schema]!.bytes;
    if (fault?.kind === 'corrupt') {
      bytes = Buffer.from(bytes);
      bytes[fault.atByte] = bytes[fault.atByte]! ^ 0xff;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    if (from >= bytes.length && bytes.length > 0) {
      rec.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
      return void res.end();
    }
    rec.status = m ? 206 : 200;
    res.writeHead(rec.status, {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.length - from),
      'accept-ranges': 'bytes',
      ...(m ? { 'content-range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    const cut = fault && (fault.kind === 'drop' || fault.kind === 'stall') ? Math.min(from + fault.afterBytes, bytes.length) : -1;
    let off = from;
    while (off < bytes.length) {
      if (res.destroyed) return;
      if (off === cut) {
        if (fault!.kind === 'stall') await sleep((fault as { ms: number }).ms);
        else {
          // the bytes sent reach the client before the connection goes (a drop, not a lost write)
          await sleep(50);
          return void req.socket.destroy();
        }
      }
      const end = Math.min(bytes.length, off + chunkSize, cut > off ? cut : bytes.length);
      await new Promise<void>((r) => res.write(bytes.subarray(off, end), () => r()));
      rec.bytesSent += end - off;
      off = end;
      await new Promise<void>((r) => setImmediate(r));
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    served,
    costOf,
    addFault: (f) => faults.push({ ...f, left: f.times ?? 1 }),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads a DBN file (zstd or raw), returns the bytes to serve and the facts metadata answers use. */
export function loadServedFile(path: string): ServedFile {
  const file = readFileSync(path);
  const zstd = file.readUInt32LE(0) === 0xfd2fb528;
  const raw = zstd ? decompressAll(path, file) : file;
  if (raw.toString('latin1', 0, 3) !== 'DBN')
    throw new Error(`${path}: byte 0: expected "DBN" after decompression, got ${JSON.stringify(raw.toString('latin1', 0, 3))}`);
  const version = raw[3]!;
  const metaEnd = 8 + raw.readUInt32LE(4);
  const cstr = (off: number, len: number): string => {
    const s = raw.toString('latin1', off, off + len);
    const nul = s.indexOf('\0');
    return nul >= 0 ? s.slice(0, nul) : s;
  };
  const dataset = cstr(8, 16);
  const symLen = version === 1 ? 22 : raw.readUInt16LE(53);
  const count = raw.readUInt32LE(112);
  const symbols: string[] = [];
  for (let i = 0; i < count; i++) symbols.push(cstr(116 + i * symLen, symLen));
  let recordCount = 0;
  let off = metaEnd;
  while (off < raw.length) {
    const len = raw[off]! * 4;
    if (len === 0) throw new Error(`${path}: decompressed byte ${off}: expected a record length > 0`);
    off += len;
    recordCount++;
  }
  if (off !== raw.length) throw new Error(`${path}: last record overruns the file end (${off} > ${raw.length})`);
  return { bytes: zstd ? file : zlib.zstdCompressSync(raw), dataset, symbols, recordCount, billableSize: raw.length - metaEnd };
}

/** Node's zlib stops after the first zstd frame; the zstd CLI reads them all. */
function decompressAll(path: string, file: Buffer): Buffer {
  try {
    return execFileSync('zstd', ['-dc', '--', path], { maxBuffer: 1 << 30 });
  } catch {
    return zlib.zstdDecompressSync(file);
  }
}

function withZone(s: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return `${s}T00:00:00Z`;
  return /(Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`;
}

function parseTime(s: string): number | null {
  if (/^\d+$/.test(s)) return Number(BigInt(s) / 1_000_000n);
  const t = Date.parse(withZone(s.replace(' ', 'T')));
  return Number.isNaN(t) ? null : t;
}
