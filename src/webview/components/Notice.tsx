/** A message in place of content: loading, empty, or an error that says what to do. */
export function Notice(props: { kind: 'info' | 'error' | 'loading'; children: preact.ComponentChildren }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.kind === 'loading' ? <span class="spinner" aria-hidden="true" /> : null}
      {props.children}
    </div>
  );
}
