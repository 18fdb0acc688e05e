/**
 * Title, description, site name and image of an HTML page (Open Graph first, then <title> and
 * <meta name="description">), with Bun's streaming HTML parser (HTMLRewriter): no regular
 * expressions over markup. Values are text (the parser decodes entities); lengths are capped; the
 * image is kept only as an absolute https URL. The receiver renders these as text only.
 */
export type LinkPreview = { url: string; title: string | null; description: string | null; site_name: string | null; image_url: string | null };

export const TITLE_MAX = 300;
export const DESCRIPTION_MAX = 1000;
const IMAGE_URL_MAX = 2048;

function clip(value: string | undefined | null, max: number): string | null {
  if (!value) return null;
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  if (!text) return null;
  const chars = [...text];
  return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : text;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos|#39|nbsp);/gi, (m, e: string) => {
    const k = e.toLowerCase();
    if (k.startsWith("#x")) return String.fromCodePoint(Math.min(parseInt(k.slice(2), 16), 0x10ffff));
    if (k.startsWith("#")) return String.fromCodePoint(Math.min(parseInt(k.slice(1), 10), 0x10ffff));
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " } as Record<string, string>)[k] ?? m;
  });
}

export async function parsePreview(html: string, pageUrl: string): Promise<LinkPreview> {
  const meta = new Map<string, string>();
  let title = "";
  let inTitle = false;
  const rewriter = new HTMLRewriter()
    .on("meta", {
      element(el) {
        const key = (el.getAttribute("property") ?? el.getAttribute("name") ?? "").toLowerCase();
        const content = el.getAttribute("content");
        if (key && content !== null && !meta.has(key)) meta.set(key, content);
      },
    })
    .on("title", {
      element() {
        inTitle = true;
      },
      text(chunk) {
        if (inTitle && title.length < 4 * TITLE_MAX) title += chunk.text;
        if (chunk.lastInTextNode) inTitle = false;
      },
    });
  await rewriter.transform(new Response(html)).text();
  let image: string | null = null;
  const raw = meta.get("og:image") ?? meta.get("og:image:url") ?? meta.get("twitter:image");
  if (raw) {
    try {
      const u = new URL(decodeEntities(raw.trim()), pageUrl);
      if (u.protocol === "https:" && u.href.length <= IMAGE_URL_MAX) image = u.href;
    } catch {
      image = null;
    }
  }
  const value = (k: string) => {
    const v = meta.get(k);
    return v === undefined ? undefined : decodeEntities(v);
  };
  return {
    url: pageUrl,
    title: clip(value("og:title") ?? value("twitter:title") ?? decodeEntities(title), TITLE_MAX),
    description: clip(value("og:description") ?? value("description") ?? value("twitter:description"), DESCRIPTION_MAX),
    site_name: clip(value("og:site_name"), 100),
    image_url: image,
  };
}
