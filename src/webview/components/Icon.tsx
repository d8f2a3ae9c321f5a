/** Small inline SVG icons (no icon font, no remote content). */
const PATHS: Record<string, string> = {
  play: 'M4 2.5v11l9-5.5z',
  pause: 'M4 2.5h3v11H4zM9 2.5h3v11H9z',
  step: 'M3 2.5v11l7-5.5zM11 2.5h2v11h-2z',
  stepBack: 'M13 2.5v11L6 8zM3 2.5h2v11H3z',
  nextFill: 'M2 8h7M6 4.5 9.5 8 6 11.5M12 3v10',
  prevFill: 'M14 8H7M10 4.5 6.5 8l3.5 3.5M4 3v10',
  stop: 'M3.5 3.5h9v9h-9z',
  copy: 'M5 5h8v9H5zM3 2h8v2H4v8H3z',
  replay: 'M8 2.5a5.5 5.5 0 1 1-5.2 3.7M2.5 2.5v3.5H6',
  reset: 'M2 8h12M8 2v12',
  external: 'M9 2h5v5M14 2 7 9M12 9v5H2V4h5',
};
const STROKED = new Set(['nextFill', 'prevFill', 'replay', 'reset', 'external']);

export function Icon(props: { name: keyof typeof PATHS }) {
  const d = PATHS[props.name] ?? '';
  const stroked = STROKED.has(props.name);
  return (
    <svg class="icon" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path
        d={d}
        fill={stroked ? 'none' : 'currentColor'}
        stroke={stroked ? 'currentColor' : 'none'}
        stroke-width="1.5"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}
