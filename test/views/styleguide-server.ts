// Throwaway server for the styleguide: bundles src/client/app.ts with Bun.build into a temp
// dir, vendors htmx/Alpine with vendorAssets, and serves the sample pages with the strict CSP
// the real app sends. `bun test/views/styleguide-server.ts` keeps it running for eyeballing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "bun";
import { vendorAssets } from "../../scripts/vendor.ts";
import { CONTENT_SECURITY_POLICY } from "../../src/http/security-headers.ts";
import { ErrorBanner, orderScripts, type PageAssets } from "../../views/index.ts";
import { LoginForm, authPage, chatPage, errorPage, settingsPage } from "./styleguide.tsx";

const ROOT = join(import.meta.dir, "..", "..");

/** The CSP the real app sends (one definition, so the styleguide cannot drift from it). */
export const CSP = CONTENT_SECURITY_POLICY;

export type Styleguide = {
  url: string;
  bundleBytes: { minified: number; gzip: number };
  /** How often /evil.js was fetched (must stay 0). */
  evilRequests(): number;
  stop(): Promise<void>;
};

export async function startStyleguide(): Promise<Styleguide> {
  const dir = await mkdtemp(join(tmpdir(), "hearth-styleguide-"));
  const buildDir = join(dir, "build");
  const vendorDir = join(dir, "vendor");

  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/client/app.ts")],
    outdir: buildDir,
    target: "browser",
    format: "esm",
    minify: true,
    naming: "[name]-[hash].[ext]",
  });
  if (!result.success) throw new AggregateError(result.logs, "client bundle failed");
  const appOut = result.outputs.find((o) => o.kind === "entry-point");
  if (!appOut) throw new Error("no entry point output");
  const appBytes = new Uint8Array(await appOut.arrayBuffer());
  const appName = appOut.path.slice(buildDir.length + 1);
  await Bun.write(join(buildDir, "app.css"), Bun.file(join(ROOT, "src/client/styles/app.css")));

  const vendor = await vendorAssets(vendorDir);
  const assets: PageAssets = {
    styles: ["/public/build/app.css"],
    scripts: orderScripts({
      htmx: `/public/vendor/${vendor.htmx}`,
      app: `/public/build/${appName}`,
      alpine: `/public/vendor/${vendor.alpine}`,
    }),
  };

  const htmlHeaders = { "content-type": "text/html; charset=utf-8", "content-security-policy": CSP, "cache-control": "no-store" };
  const html = (body: string, status = 200) => new Response(body, { status, headers: htmlHeaders });

  let evilRequests = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const p = url.pathname;
      if (p.startsWith("/public/build/") || p.startsWith("/public/vendor/")) {
        const base = p.startsWith("/public/build/") ? buildDir : vendorDir;
        const name = p.split("/").pop() ?? "";
        if (!/^[\w.-]+$/.test(name)) return new Response("bad name", { status: 400 });
        const file = Bun.file(join(base, name));
        if (!(await file.exists())) return new Response("not found", { status: 404 });
        return new Response(file, { headers: { "content-security-policy": CSP } });
      }
      if (p === "/") return html(chatPage(assets));
      if (p === "/auth") return html(authPage(assets));
      if (p === "/auth-error") return html(authPage(assets, { error: true }));
      if (p === "/settings") return html(settingsPage(assets));
      if (p === "/error") return html(errorPage(assets), 500);
      if (p === "/login" && req.method === "POST") {
        const form = await req.formData();
        // 422: the form comes back re-rendered with its inline errors.
        return html(String(LoginForm({ error: true, email: String(form.get("email") ?? "") })), 422);
      }
      if (p === "/boom" && req.method === "POST") {
        return html(String(ErrorBanner({ title: "Something went wrong", message: "The server hit an unexpected error.", requestId: "req_test123" })), 500);
      }
      if (p === "/fragment-with-script" && req.method === "POST") {
        // Hardening check: htmx must not run scripts that arrive inside a fragment.
        return html('<p id="frag">fragment arrived</p><script src="/evil.js"></script><script>document.title = "pwned"</script>');
      }
      // Every page registers /sw.js and links the manifest (src/features/notifications/pwa.tsx):
      // stand-ins here, so the pages' consoles stay clean; the real ones are tested in test/e2e/pwa.test.ts.
      if (p === "/sw.js") return new Response("// styleguide: no offline shell or push here\n", { headers: { "content-type": "text/javascript", "content-security-policy": CSP } });
      if (p === "/manifest.webmanifest") return new Response(JSON.stringify({ name: "Hearth styleguide", start_url: "/", display: "standalone" }), { headers: { "content-type": "application/manifest+json" } });
      if (p === "/evil.js") {
        evilRequests++;
        return new Response('document.title = "pwned";', { headers: { "content-type": "text/javascript", "content-security-policy": CSP } });
      }
      return html("<p>Not found</p>", 404);
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    bundleBytes: { minified: appBytes.byteLength, gzip: gzipSync(appBytes, { level: 9 }).byteLength },
    evilRequests: () => evilRequests,
    async stop() {
      await server.stop(true);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.main) {
  const sg = await startStyleguide();
  console.log(`styleguide at ${sg.url}  (/ /auth /auth-error /settings /error); app.js ${sg.bundleBytes.minified} B min, ${sg.bundleBytes.gzip} B gzip`);
}
