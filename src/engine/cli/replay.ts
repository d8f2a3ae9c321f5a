/**
 * `btnb replay RUN_ID`: a finished run's replay as the frame protocol (docs/replay.md), headless.
 * `--jsonl` prints every message as one JSON line; `--control` starts paused and takes `ctrl`
 * lines on stdin (a malformed line gets an `err` line and the stream goes on; end of stdin
 * ends it). `--speed max` runs on a virtual clock: as fast as stdout takes the lines, still at
 * most `max_bars_per_frame` buckets per frame, and byte-for-byte repeatable.
 */
import { createInterface } from 'node:readline';
import { parseArgs, UsageError } from './args.ts';
import type { CliCommand } from './commands.ts';
import type { ServerMsg, Speed } from '../replay/protocol.ts';

const HELP = `Usage: btnb replay RUN_ID [--speed N|max] [--from BAR|TS] [--to BAR|TS] [--jsonl] [--control]
                   [--points N] [--tz ZONE] [--data-dir D]

Replays a succeeded run as frame-protocol messages (meta, frame, ctrl, hb, end, err).
  --speed N|max   bars per second (default max; 60 with --control)
  --from, --to    start and last bar: a bar index, an ISO-8601 UTC time or nanoseconds
  --jsonl         every message as a JSON line on stdout (default: a progress line, then a summary)
  --control       start paused; read ctrl JSON lines on stdin, e.g. {"type":"ctrl","cmd":"play"};
                  answers on stdout; end of stdin ends the stream (exit 0)
  --points N      buckets of the history in reset frames (default 1000)
  --tz ZONE       display time zone named in meta (default America/New_York)`;

function parseSpeed(raw: string | undefined, fallback: Speed): Speed {
  if (raw === undefined) return fallback;
  if (raw === 'max') return 'max';
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--speed expects a positive number of bars per second or 'max', got '${raw}'`);
  return n;
}

function parseTarget(name: string, raw: string | undefined): number | string | undefined {
  if (raw === undefined) return undefined;
  return /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
}

export const command: CliCommand = {
  summary: 'replay a finished run as frame-protocol messages (JSON lines, or interactive with --control)',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, {
      'data-dir': { type: 'string' },
      speed: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      jsonl: { type: 'boolean' },
      control: { type: 'boolean' },
      points: { type: 'string' },
      tz: { type: 'string' },
    });
    const [runId, extra] = args.positionals;
    if (runId === undefined) throw new UsageError('missing RUN_ID');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const control = args.flags.has('control');
    const jsonl = args.flags.has('jsonl') || control;
    const speed = parseSpeed(args.values.get('speed'), control ? 60 : 'max');
    const points = args.values.has('points') ? Number(args.values.get('points')) : undefined;
    if (points !== undefined && (!Number.isInteger(points) || points < 10))
      throw new UsageError(`--points expects an integer ≥ 10, got '${args.values.get('points')}'`);
    const tz = args.values.get('tz') ?? 'America/New_York';
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      throw new UsageError(`--tz: unknown time zone '${tz}' (expected an IANA name such as America/New_York)`);
    }

    const { resolveDataDir, dataPaths } = await import('../dataDir.ts');
    const { openCatalog } = await import('../catalog/sqliteCatalog.ts');
    const { loadRunSeries } = await import('../replay/runSeries.ts');
    const { LocalStreamer } = await import('../replay/localStreamer.ts');
    const { systemClock, VirtualClock } = await import('../replay/clock.ts');
    const dataDir = resolveDataDir(args.values.get('data-dir'));
    const load = async (id: string) => {
      const catalog = openCatalog(dataPaths(dataDir).catalog);
      try {
        return await loadRunSeries(dataDir, catalog, id);
      } finally {
        catalog.close();
      }
    };

    const out = process.stdout;
    // A reader that goes away (`| head`) ends the replay quietly.
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(0);
    });
    let backlog: Promise<void> | null = null;
    const write = (line: string) => {
      if (!out.write(line) && backlog === null)
        backlog = new Promise((r) =>
          out.once('drain', () => {
            backlog = null;
            r();
          }),
        );
    };
    const drained = (): Promise<void> => backlog ?? Promise.resolve();
    const virtual = speed === 'max' && !control ? new VirtualClock(drained) : null;
    const clock = virtual ?? systemClock;
    const tty = !jsonl && out.isTTY === true;
    const stats = { frames: 0, bars: 0, fills: 0, orders: 0, errors: 0 };
    let barCount = 0;
    let finished = false;
    let ended: (() => void) | null = null;
    const done = new Promise<void>((r) => (ended = r));
    const t0 = performance.now();
    const onMessage = (m: ServerMsg) => {
      if (finished) return;
      if (m.type === 'meta') barCount = m.bar_count;
      if (jsonl) write(`${JSON.stringify(m)}\n`);
      if (m.type === 'frame') {
        stats.frames++;
        stats.fills += m.fills.fill_id.length;
        stats.orders += m.orders.order_id.length;
        stats.bars = m.cursor + 1;
        if (tty && stats.frames % 10 === 0)
          process.stderr.write(`\rreplay ${runId}: bar ${m.cursor + 1}/${barCount}, ${stats.fills} fills`);
      } else if (m.type === 'err') {
        stats.errors++;
        if (!jsonl) process.stderr.write(`btnb replay: ${m.code}: ${m.message}\n`);
      } else if (m.type === 'end' && (m.reason === 'stopped' || !control)) {
        virtual?.stop(); // no heartbeat after the end
        ended?.();
      }
    };
    let session: Awaited<ReturnType<InstanceType<typeof LocalStreamer>['open']>>;
    try {
      session = await new LocalStreamer(load, clock).open(
        runId,
        {
          speed,
          from: parseTarget('from', args.values.get('from')),
          to: parseTarget('to', args.values.get('to')),
          play: !control,
          displayTz: tz,
          ...(points !== undefined ? { historyPoints: points } : {}),
        },
        onMessage,
      );
    } catch (err) {
      if (err instanceof RangeError) throw new UsageError(err.message);
      throw err;
    }
    if (control) {
      const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
      rl.on('line', (line) => {
        if (line.trim() === '') return;
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch (err) {
          onMessage({ type: 'err', code: 'bad_message', message: `not JSON: ${(err as Error).message}` });
          return;
        }
        session.control(msg);
      });
      // End of input: answer what was asked (a frame may be waiting for its turn), then end.
      rl.on('close', () => void session.settled().then(() => session.close()));
    }
    if (virtual) await Promise.race([virtual.run(), done]);
    await done;
    virtual?.stop();
    finished = true; // the stream has ended: closing it releases its timers without another message
    session.close();
    await drained();
    if (!jsonl) {
      if (tty) process.stderr.write('\r\x1b[K');
      const s = ((performance.now() - t0) / 1000).toFixed(2);
      out.write(
        `replay ${runId}: ${stats.bars} bars, ${stats.frames} frames, ${stats.fills} fills, ${stats.orders} order events in ${s} s\n`,
      );
    }
    return 0;
  },
};
