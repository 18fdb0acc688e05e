// Custom emoji in decrypted text and in reactions (docs/profiles.md): `:shortcode:` is replaced by
// the community's image when the shortcode is in its set; otherwise (unknown, deleted, a DM) it
// stays text. A lazy chunk of chat.js that imports nothing; view.ts loads it only when a text or
// a reaction contains something shaped like `:shortcode:`. The set comes from GET /api/emoji
// (every community the user is in), cached for a minute (an added or deleted emoji shows within it).

type Emoji = { shortcode: string; url: string };
type Sets = Map<string, Map<string, string>>;

const PATTERN = /:([A-Za-z0-9_]{2,32}):/g;
let sets: Promise<Sets> | null = null;
let loadedAt = 0;
const CACHE_MS = 60_000;

function load(): Promise<Sets> {
  if (Date.now() - loadedAt > CACHE_MS) sets = null;
  if (!sets) loadedAt = Date.now();
  sets ??= fetch("/api/emoji", { credentials: "same-origin", headers: { accept: "application/json" } })
    .then((r) => (r.ok ? (r.json() as Promise<{ communities: { community_id: string; emoji: Emoji[] }[] }>) : { communities: [] }))
    .then((body) => new Map(body.communities.map((c) => [c.community_id, new Map(c.emoji.map((e) => [e.shortcode, e.url]))])))
    .catch(() => new Map());
  return sets;
}

/** One community's set (shortcode → image address), for the composer's `:name:` autocomplete. */
export async function customSet(communityId: string): Promise<Map<string, string>> {
  return (await load()).get(communityId) ?? new Map();
}

function communityOf(node: Element): string | undefined {
  return node.closest<HTMLElement>("[data-chat-community]")?.dataset.chatCommunity ?? document.querySelector<HTMLElement>("[data-chat-community]")?.dataset.chatCommunity;
}

function image(shortcode: string, url: string): HTMLImageElement {
  const img = document.createElement("img");
  img.className = "custom-emoji";
  img.src = url;
  img.alt = `:${shortcode}:`;
  img.title = `:${shortcode}:`;
  img.loading = "lazy";
  return img;
}

/** Replaces known `:shortcode:` in the text nodes under `root` (never inside code). */
export async function decorateCustomEmoji(root: HTMLElement): Promise<void> {
  const community = communityOf(root);
  if (!community) return;
  const set = (await load()).get(community);
  if (!set || set.size === 0 || !root.isConnected) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (!n.parentElement?.closest("code, pre")) texts.push(n as Text);
  for (const text of texts) {
    const value = text.data;
    PATTERN.lastIndex = 0;
    if (!PATTERN.test(value)) continue;
    PATTERN.lastIndex = 0;
    const parts: (string | Node)[] = [];
    let last = 0;
    for (let m = PATTERN.exec(value); m; m = PATTERN.exec(value)) {
      const url = set.get(m[1]!);
      if (!url) continue;
      parts.push(value.slice(last, m.index), image(m[1]!, url));
      last = m.index + m[0].length;
    }
    if (last === 0) continue;
    parts.push(value.slice(last));
    text.replaceWith(...parts);
  }
}
