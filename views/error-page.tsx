// Minimal error page; the UI foundation replaces it (same props).
export type ErrorPageProps = { status: number; title: string; message: string; requestId?: string };

export function ErrorPage(props: ErrorPageProps) {
  return (
    <section class="error-page">
      <h1>{props.title}</h1>
      <p>{props.message}</p>
      {props.requestId ? <p class="muted">Request id: <code>{props.requestId}</code></p> : null}
    </section>
  );
}
