// Minimal page shell; the UI foundation replaces it with the full design (same props).
import type { Child } from "hono/jsx";

export type PageAssets = { styles: string[]; scripts: { src: string; module?: boolean }[] };
export type LayoutProps = { title: string; assets: PageAssets; user?: { displayName: string } | null; children?: Child };

export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Hearth</title>
        {props.assets.styles.map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        {props.assets.scripts.map((s) => (s.module ? <script type="module" src={s.src}></script> : <script defer src={s.src}></script>))}
      </head>
      <body>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
