/**
 * `btnb decode FILE [--json] [--limit N] [--summary] [--fragment-version N]`: prints a DBN file's
 * summary (default; JSON with --json --summary) or its records as JSON lines shaped like
 * Databento's `dbn` tool. Quiet exit 0 when stdout is a closed pipe (`| head -1`).
 */
import type { CliCommand } from './commands.ts';
import { intOption, parseArgs, UsageError } from './args.ts';
import { decodeFile } from '../dbn/decoder.ts';
import type { DecodeSummary } from '../dbn/streamDecoder.ts';
import { rtypeName, stypeName } from '../dbn/enums.ts';
import type { DbnRecord } from '../dbn/records.ts';

const HELP = `Usage: btnb decode FILE [--json] [--limit N] [--summary] [--fragment-version N]

Decodes a Databento DBN file (v1-v3, raw or zstd-compressed; fragments without metadata too).

  (no flags)              print a summary: version, dataset, schema, time range, symbols,
                          mappings, record counts per record type, bytes
  --summary               the same summary (with --json: one JSON object)
  --json                  print every record as one JSON object per line, like Databento's
                          \`dbn\` tool: {"hd":{"ts_event":"…","rtype":0,…},"price":"3720250000000",…}
                          (64-bit integers as decimal strings, chars as one-letter strings)
  --limit N               stop after N records (with --json)
  --fragment-version N    decode a fragment (records without metadata) as DBN version N (1-3);
                          inferred from the first record when absent

Exit codes: 0 success, 1 bad file (the error names the byte offset), 2 usage error.`;

class Stop extends Error {}

/** UNIX nanoseconds as ISO-8601 UTC with 9 fractional digits. */
export function nsToIso(ns: bigint): string {
  const ms = ns / 1000000n;
  const sub = ns % 1000000000n;
  const base = new Date(Number(ms)).toISOString(); // …T13:00:00.098Z
  return `${base.slice(0, 19)}.${sub.toString().padStart(9, '0')}Z`;
}

function fmtDate(d: number): string {
  const s = String(d).padStart(8, '0');
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

export function summaryJson(file: string, s: DecodeSummary): Record<string, unknown> {
  const m = s.metadata;
  const counts: Record<string, number> = {};
  for (const [r, n] of Object.entries(s.recordCounts)) counts[rtypeName(Number(r))] = n;
  return {
    file,
    version: s.version,
    fragment: s.fragment,
    compression: s.compression,
    dataset: m?.dataset ?? null,
    schema: m ? (m.schemaName ?? (m.schema === null ? 'mixed' : `unknown-${m.schema}`)) : null,
    start: m ? nsToIso(m.start) : null,
    end: m?.end != null ? nsToIso(m.end) : null,
    start_ns: m ? m.start.toString() : null,
    end_ns: m?.end != null ? m.end.toString() : null,
    limit: m ? m.limit.toString() : null,
    stype_in: m ? (stypeName(m.stypeIn) ?? 'mixed') : null,
    stype_out: m ? (stypeName(m.stypeOut) ?? 'mixed') : null,
    ts_out: m?.tsOut ?? false,
    symbols: m?.symbols ?? [],
    partial: m?.partial ?? [],
    not_found: m?.notFound ?? [],
    mappings: (m?.mappings ?? []).map((x) => ({
      raw_symbol: x.rawSymbol,
      intervals: x.intervals.map((i) => ({ start_date: fmtDate(i.startDate), end_date: fmtDate(i.endDate), symbol: i.symbol })),
    })),
    records: s.records,
    record_counts: counts,
    skipped_unknown: s.skippedUnknown,
    bytes: s.bytes,
    compressed_bytes: s.compressedBytes,
  };
}

export function summaryText(file: string, s: DecodeSummary): string {
  const j = summaryJson(file, s);
  const m = s.metadata;
  const list = (xs: string[]) => (xs.length === 0 ? '-' : `${xs.join(', ')} (${xs.length})`);
  const lines: [string, string][] = [
    ['file', file],
    ['version', s.version === null ? 'unknown (fragment)' : `DBN v${s.version}${s.fragment ? ' (fragment: no metadata)' : ''}`],
    ['bytes', s.compression === 'zstd' ? `${s.bytes} decompressed, ${s.compressedBytes} zstd` : `${s.bytes}`],
  ];
  if (m) {
    lines.push(
      ['dataset', m.dataset],
      ['schema', String(j.schema)],
      ['time range', `${String(j.start)} .. ${typeof j.end === 'string' ? j.end : '(open)'} (UTC)`],
      ['limit', m.limit === 0n ? 'none' : m.limit.toString()],
      ['stype', `${String(j.stype_in)} -> ${String(j.stype_out)}`],
      ['ts_out', String(m.tsOut)],
      ['symbols', list(m.symbols)],
      ['partial', list(m.partial)],
      ['not found', list(m.notFound)],
      ['mappings', m.mappings.length === 0 ? '-' : String(m.mappings.length)],
    );
  }
  const out = lines.map(([k, v]) => `${k.padEnd(11)} ${v}`);
  for (const x of m?.mappings ?? []) {
    const shown = x.intervals.slice(0, 5).map((i) => `${fmtDate(i.startDate)}..${fmtDate(i.endDate)} -> ${i.symbol}`);
    const more = x.intervals.length > 5 ? `, … (${x.intervals.length} intervals)` : '';
    out.push(`  ${x.rawSymbol}: ${shown.join(', ') || '(no intervals)'}${more}`);
  }
  out.push(`${'records'.padEnd(11)} ${s.records}${s.skippedUnknown ? ` (${s.skippedUnknown} of unknown record types, skipped)` : ''}`);
  for (const [r, n] of Object.entries(s.recordCounts)) {
    out.push(`  ${rtypeName(Number(r)).padEnd(18)} rtype 0x${Number(r).toString(16).padStart(2, '0')}  ${n}`);
  }
  return `${out.join('\n')}\n`;
}

export const decodeCommand: CliCommand = {
  summary: 'decode a DBN file: summary, or records as JSON lines',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, {
      json: { type: 'boolean' },
      summary: { type: 'boolean' },
      limit: { type: 'string' },
      'fragment-version': { type: 'string' },
    });
    if (args.positionals.length !== 1)
      throw new UsageError(args.positionals.length === 0 ? 'missing FILE' : `expected one FILE, got ${args.positionals.length}`);
    const file = args.positionals[0]!;
    const limit = intOption(args, 'limit');
    const fv = intOption(args, 'fragment-version');
    if (fv !== undefined && (fv < 1 || fv > 3)) throw new UsageError(`--fragment-version expects 1, 2 or 3, got ${fv}`);
    const json = args.flags.has('json');
    const records = json && !args.flags.has('summary');
    if (limit !== undefined && !records) throw new UsageError('--limit applies to --json record output');
    const opts = { fragmentVersion: fv as 1 | 2 | 3 | undefined, batchSize: 4096 };

    if (!records) {
      const s = await decodeFile(file, {}, opts);
      process.stdout.write(json ? `${JSON.stringify(summaryJson(file, s))}\n` : summaryText(file, s));
      return 0;
    }

    // JSON lines. stdout to a pipe or file is synchronous on Linux; lines are batched into ~64 KiB writes.
    let closed = false;
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') closed = true;
      else throw e;
    };
    process.stdout.on('error', onError);
    let buf = '';
    let n = 0;
    const flush = () => {
      if (buf && !closed) process.stdout.write(buf);
      buf = '';
    };
    try {
      await decodeFile(
        file,
        {
          onRecord(rec: DbnRecord) {
            if (closed) throw new Stop();
            if (limit !== undefined && n >= limit) throw new Stop();
            buf += `${JSON.stringify(rec)}\n`;
            n++;
            if (buf.length > 65536) flush();
          },
        },
        opts,
      );
    } catch (e) {
      if (!(e instanceof Stop)) {
        flush();
        throw e;
      }
    } finally {
      if (!closed) flush();
    }
    // Let a pending EPIPE surface before returning so it is swallowed, not reported.
    await new Promise((r) => setImmediate(r));
    process.stdout.off('error', onError);
    if (closed) process.stdout.on('error', () => {});
    return 0;
  },
};
