/** /admin/usage: the figures of service.ts as tables (no chart script: readable without JS and by screen readers). */
import type { FC } from "hono/jsx";
import type { Usage } from "./service.ts";

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const Figure: FC<{ label: string; value: string; note?: string }> = (p) => (
  <div class="usage-figure">
    <dt>{p.label}</dt>
    <dd>
      <strong>{p.value}</strong>
      {p.note ? <span class="muted"> {p.note}</span> : null}
    </dd>
  </div>
);

export const UsagePage: FC<{ usage: Usage }> = ({ usage: u }) => {
  const max = Math.max(1, ...u.messagesPerDay.map((d) => d.count));
  return (
    <div class="stack">
      <section class="card stack" aria-labelledby="usage-now-h">
        <h2 id="usage-now-h">Now</h2>
        <dl class="usage-figures">
          <Figure label="Accounts" value={String(u.users.total)} note={u.users.suspended ? `(${u.users.suspended} suspended)` : undefined} />
          <Figure label="Active in the last 7 days" value={String(u.users.active7d)} note="(a session used)" />
          <Figure label="Active in the last 30 days" value={String(u.users.active30d)} />
          <Figure label="Open connections" value={String(u.sockets.thisInstance)} note="(this instance only; other instances are not counted here)" />
          <Figure label="Stored files" value={formatBytes(u.files.bytes)} note={`(${u.files.count} files, encrypted)`} />
          <Figure label="Database" value={u.database.bytes === null ? "unavailable" : formatBytes(u.database.bytes)} note={u.database.kind === "pglite" ? "(embedded database)" : "(PostgreSQL)"} />
        </dl>
        <p class="muted">As of {u.generatedAt.toISOString().replace("T", " ").slice(0, 16)} UTC. Counts and sizes only: message contents are encrypted and never read.</p>
      </section>
      <section class="panel" aria-labelledby="usage-days-h">
        <div class="panel__header">
          <h2 class="panel__title" id="usage-days-h">
            Messages per day, last 30 days ({u.messagesTotal30d})
          </h2>
        </div>
        <table class="config-table usage-days">
          <caption class="visually-hidden">Messages sent per UTC day</caption>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col">Messages</th>
            </tr>
          </thead>
          <tbody>
            {[...u.messagesPerDay].reverse().map((d) => (
              <tr>
                <th scope="row">{d.day}</th>
                <td>
                  <span class="usage-bar" data-width={Math.round((d.count / max) * 10)} aria-hidden="true" /> {d.count}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
};
