/**
 * Bar-replay controls: Play/Pause, Step, previous/next fill, speed, a scrubber to seek, and the
 * cursor's bar and time as text. Every button has an accessible name; the keyboard shortcuts
 * (Space, arrows) are the container's.
 */
import { useState } from 'preact/hooks';
import type { Speed } from '../../engine/replay/protocol.ts';
import { Icon } from './Icon.tsx';

export const SPEEDS: Speed[] = [1, 2, 5, 10, 30, 60, 120, 300, 1000, 5000, 'max'];

export interface ReplayBarProps {
  /** idle: not replaying (the whole run is shown). */
  state: 'idle' | 'opening' | 'playing' | 'paused' | 'ended';
  cursor: number;
  barCount: number;
  cursorTime: string;
  speed: Speed;
  onPlay: () => void;
  onPause: () => void;
  onStep: (n: number) => void;
  onNextFill: () => void;
  onPrevFill: () => void;
  onSeek: (bar: number) => void;
  onSpeed: (s: Speed) => void;
  onExit: () => void;
}

export function ReplayBar(p: ReplayBarProps) {
  const [drag, setDrag] = useState<number | null>(null);
  const active = p.state !== 'idle';
  const shown = drag ?? p.cursor;
  const playing = p.state === 'playing';
  return (
    <div class="replay-bar" role="toolbar" aria-label="Replay">
      {playing ? (
        <button type="button" class="icon-button primary" aria-label="Pause" title="Pause (Space)" onClick={p.onPause}>
          <Icon name="pause" />
        </button>
      ) : (
        <button
          type="button"
          class="icon-button primary"
          aria-label="Play"
          title="Play (Space)"
          onClick={p.onPlay}
          disabled={p.state === 'opening'}
        >
          <Icon name="play" />
        </button>
      )}
      <button
        type="button"
        class="icon-button"
        aria-label="Step back"
        title="Step back one bar (←)"
        onClick={() => p.onStep(-1)}
        disabled={!active}
      >
        <Icon name="stepBack" />
      </button>
      <button type="button" class="icon-button" aria-label="Step" title="Step one bar (→)" onClick={() => p.onStep(1)}>
        <Icon name="step" />
      </button>
      <button
        type="button"
        class="icon-button"
        aria-label="Previous fill"
        title="Previous fill (Shift+←)"
        onClick={p.onPrevFill}
        disabled={!active}
      >
        <Icon name="prevFill" />
      </button>
      <button type="button" class="icon-button" aria-label="Next fill" title="Next fill (Shift+→)" onClick={p.onNextFill}>
        <Icon name="nextFill" />
      </button>
      <label class="speed">
        <span class="visually-hidden">Speed</span>
        <select
          aria-label="Speed (bars per second)"
          value={String(p.speed)}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            p.onSpeed(v === 'max' ? 'max' : Number(v));
          }}
        >
          {SPEEDS.map((s) => (
            <option key={String(s)} value={String(s)}>
              {s === 'max' ? 'max' : `${s} bars/s`}
            </option>
          ))}
        </select>
      </label>
      <input
        type="range"
        class="scrubber"
        min={0}
        max={Math.max(0, p.barCount - 1)}
        step={1}
        value={shown}
        aria-label="Replay position"
        aria-valuetext={`bar ${shown + 1} of ${p.barCount}`}
        onInput={(e) => setDrag(Number((e.target as HTMLInputElement).value))}
        onChange={(e) => {
          setDrag(null);
          p.onSeek(Number((e.target as HTMLInputElement).value));
        }}
      />
      <span class="cursor-text" aria-live="polite" data-cursor={active ? p.cursor : ''}>
        {active ? (
          <>
            Bar <b>{(p.cursor + 1).toLocaleString('en-US')}</b> / {p.barCount.toLocaleString('en-US')} · {p.cursorTime}
          </>
        ) : (
          <>{p.barCount.toLocaleString('en-US')} bars · replay from any bar</>
        )}
        {p.state === 'ended' ? ' · end' : ''}
      </span>
      {active ? (
        <button type="button" class="icon-button" aria-label="Exit replay" title="Exit replay (show the whole run)" onClick={p.onExit}>
          <Icon name="stop" />
        </button>
      ) : null}
    </div>
  );
}
