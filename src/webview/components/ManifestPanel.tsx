/** The run manifest (params, seed, costs, code hash, env lock, dataset ids, calendar version) with a copy button. */
import { Icon } from './Icon.tsx';

export function ManifestPanel(props: { manifest: Record<string, unknown> | null; onCopy(text: string): void }) {
  if (!props.manifest) return <p class="muted">No run-manifest.json (the run has not finished, or its files were deleted).</p>;
  const text = JSON.stringify(props.manifest, null, 2);
  return (
    <div class="manifest">
      <button type="button" class="button secondary" onClick={() => props.onCopy(text)} aria-label="Copy manifest JSON">
        <Icon name="copy" /> Copy
      </button>
      <pre id="manifest" tabIndex={0}>
        {text}
      </pre>
    </div>
  );
}
