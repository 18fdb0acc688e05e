/**
 * GET /api/openapi.json: the OpenAPI 3.1 document (document.ts), built once from the finished
 * route table on the first request. GET /help/api: the same document as a server-rendered page,
 * no script at all (the plugin's own UI pages load Scalar or Swagger UI from a CDN with an inline
 * script, which the CSP `script-src 'self'` refuses: docs/decisions/0007). Both public: they
 * describe routes, never data.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json, page } from "../../http/render.ts";
import { Layout } from "../../../views/layout.tsx";
import { API_PAGE_PATH, buildOpenApiDocument, OPENAPI_PATH, type DocumentedApp } from "./document.ts";

type Schema = { type?: string | string[]; format?: string; enum?: unknown[]; const?: unknown; minLength?: number; maxLength?: number; minimum?: number; maximum?: number; maxItems?: number; items?: Schema; anyOf?: Schema[]; properties?: Record<string, Schema>; required?: string[] };
type Parameter = { name: string; in: string; required?: boolean; schema?: Schema };
type Operation = { summary?: string; description?: string; security?: Record<string, unknown>[]; parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> }; responses?: Record<string, { description?: string }>; "x-hearth-auth"?: string };
type Document = { info: { title: string; version: string }; paths: Record<string, Record<string, Operation>> };

export function apiDocsRoutes(deps: AppDeps, app: () => DocumentedApp) {
  let cached: ReturnType<typeof buildOpenApiDocument> | undefined;
  const documentOf = () => (cached ??= buildOpenApiDocument(app(), deps.config.version));
  return new Elysia({ name: "api-docs" })
    .get(OPENAPI_PATH, () => json(documentOf()))
    .get(API_PAGE_PATH, () => page(<Layout title="API reference" assets={deps.assets.page()}><ApiPage doc={documentOf() as unknown as Document} /></Layout>));
}

/** A schema in a few words: `string (uuid, 1–64)`, `integer (≥ 1)`, `"a" | "b"`. */
export function describeSchema(s: Schema | undefined): string {
  if (!s) return "any";
  if (s.anyOf) return s.anyOf.map(describeSchema).join(" | ");
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  const type = Array.isArray(s.type) ? s.type.join(" | ") : (s.type ?? "any");
  if (type === "array") return `array of ${describeSchema(s.items)}${s.maxItems !== undefined ? ` (≤ ${s.maxItems})` : ""}`;
  const notes: string[] = [];
  if (s.format) notes.push(s.format);
  if (s.minLength !== undefined || s.maxLength !== undefined) notes.push(`${s.minLength ?? 0}–${s.maxLength ?? "…"} chars`);
  if (s.minimum !== undefined) notes.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) notes.push(`≤ ${s.maximum}`);
  return notes.length > 0 ? `${type} (${notes.join(", ")})` : type;
}

function authText(op: Operation): string {
  if (op["x-hearth-auth"]) return "Signed in, instance admin";
  if (!op.security || op.security.length === 0) return "Public";
  if (op.security.some((s) => Object.keys(s).length === 0)) return "Optional sign-in";
  return "Signed in (Bearer token or session cookie)";
}

function ApiPage({ doc }: { doc: Document }) {
  const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
  const groups = new Map<string, typeof ops>();
  for (const o of ops) {
    const segments = o.path.split("/").filter(Boolean);
    const group = segments[0] === "api" ? `/api/${segments[1] ?? ""}` : `/${segments[0] ?? ""}`;
    groups.set(group, [...(groups.get(group) ?? []), o]);
  }
  return (
    <article class="stack help api-docs">
      <h1>
        {doc.info.title} <span class="muted">{doc.info.version}</span>
      </h1>
      <p>
        Every route of this server, generated from the schemas the server validates with. The machine-readable document (OpenAPI 3.1): <a href={OPENAPI_PATH}>{OPENAPI_PATH}</a>.
        Errors share one shape, <code>{'{ "error": { "code", "message" } }'}</code>; a 400 names the field. Real-time events use the WebSocket <code>GET /ws</code>, described in
        docs/protocol.md of the Hearth source.
      </p>
      <nav aria-label="Sections">
        <ul>
          {[...groups.keys()].map((g) => (
            <li>
              <a href={`#${anchor(g)}`}>{g}</a>
            </li>
          ))}
        </ul>
      </nav>
      {[...groups.entries()].map(([group, list]) => (
        <section class="stack" id={anchor(group)}>
          <h2>{group}</h2>
          {list.map(({ path, method, op }) => (
            <section class="api-op">
              <h3>
                <code>
                  {method} {path}
                </code>
              </h3>
              {op.summary ? <p>{op.summary}</p> : null}
              {op.description ? <p>{op.description}</p> : null}
              <p>Auth: {authText(op)}</p>
              {op.parameters && op.parameters.length > 0 ? (
                <>
                  <h4>Parameters</h4>
                  <ul>
                    {op.parameters.map((p) => (
                      <li>
                        <code>{p.name}</code> ({p.in}
                        {p.required ? ", required" : ""}): {describeSchema(p.schema)}
                      </li>
                    ))}
                  </ul>
                </>
              ) : null}
              <Body op={op} />
              <h4>Responses</h4>
              <ul>
                {Object.entries(op.responses ?? {}).map(([status, r]) => (
                  <li>
                    <code>{status}</code> {r.description ?? ""}
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </section>
      ))}
    </article>
  );
}

function Body({ op }: { op: Operation }) {
  const content = op.requestBody?.content;
  if (!content) return null;
  const types = Object.keys(content);
  const schema = Object.values(content)[0]?.schema;
  const required = new Set(schema?.required ?? []);
  return (
    <>
      <h4>Body</h4>
      <p class="muted">{types.join(", ")}</p>
      {schema?.properties ? (
        <ul>
          {Object.entries(schema.properties).map(([name, s]) => (
            <li>
              <code>{name}</code>
              {required.has(name) ? " (required)" : ""}: {describeSchema(s)}
            </li>
          ))}
        </ul>
      ) : (
        <p>{describeSchema(schema)}</p>
      )}
    </>
  );
}

function anchor(group: string): string {
  return `api-${group.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}`;
}
