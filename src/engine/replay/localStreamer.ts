/**
 * StreamerPort over the local data dir: loads runs through a RunSeriesCache (a few recent runs
 * in memory) and paces every session on one clock.
 */
import type { ReplayOpenOptions, ReplaySession, StreamerPort } from '../ports/streamer.ts';
import type { Clock } from './clock.ts';
import type { ServerMsg } from './protocol.ts';
import type { RunSeries } from './runSeries.ts';
import { ReplayStream } from './streamer.ts';

export class LocalStreamer implements StreamerPort {
  readonly #load: (runId: string) => Promise<RunSeries>;
  readonly #clock: Clock;
  readonly #sessions = new Set<ReplaySession>();

  constructor(load: (runId: string) => Promise<RunSeries>, clock: Clock) {
    this.#load = load;
    this.#clock = clock;
  }

  async open(runId: string, opts: ReplayOpenOptions, sink: (msg: ServerMsg) => void): Promise<ReplaySession> {
    const series = await this.#load(runId);
    const stream = new ReplayStream(series, sink, { ...opts, clock: this.#clock });
    const sessions = this.#sessions;
    const session: ReplaySession = {
      runId,
      control: (msg) => stream.control(msg),
      settled: () => stream.settled(),
      close: () => {
        stream.close();
        sessions.delete(session);
      },
    };
    sessions.add(session);
    stream.start();
    return session;
  }

  /** Open sessions (tests check that views close theirs). */
  get openSessions(): number {
    return this.#sessions.size;
  }

  /** Closes every session (owner disposed). */
  closeAll(): void {
    for (const s of [...this.#sessions]) s.close();
  }
}
