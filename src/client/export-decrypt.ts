// Settings › Your data (issue 15 §3, docs/admin.md "Data rights"): a bundle of its own, loaded
// only by /settings/data and /settings/data/decrypt (chat.js is at its size budget).
//  - "Download my data" ([data-export-download]): fetches the zip showing the bytes received, then
//    saves it; without this script the link downloads it plainly.
//  - "Decrypt my export" ([data-export-decrypt]): reads the chosen zip in the browser, opens every
//    message with this device's keys (the chat's own engine: message-key archive, sender keys,
//    pairwise sessions, as history is read in the chat) and builds a readable zip the user saves.
//    The plaintext stays in this page: it is never sent. The engine may ask other devices for a
//    key it lacks (ciphertext to-device messages, as in the chat); nothing else goes out.
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";
import { ChatEngine } from "./chat/engine.ts";
import { IndexedDbKeyStore } from "./e2ee/index.ts";
import type { ChatMessage } from "./chat/types.ts";

type ExportedMessage = {
  id: string;
  channel_id: string;
  channel_kind: string;
  community_id: string | null;
  seq: number;
  scheme: "sk" | "pw";
  sender_id: string;
  sender_device_id: string;
  client_id: string;
  ciphertext: string;
  reply_to_id: string | null;
  thread_root_id: string | null;
  created_at: string;
  edited_at: string | null;
};

const formatBytes = (n: number) => (n < 1024 * 1024 ? `${Math.max(1, Math.round(n / 1024))} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

function mountDownload(link: HTMLAnchorElement): void {
  const status = document.querySelector<HTMLElement>("[data-export-status]");
  let busy = false;
  link.addEventListener("click", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    link.setAttribute("aria-disabled", "true");
    const say = (text: string) => {
      if (status) status.textContent = text;
    };
    try {
      say("Preparing your export…");
      const res = await fetch(link.href, { credentials: "same-origin" });
      if (!res.ok || !res.body) {
        const error = ((await res.json().catch(() => null)) as { error?: { message?: string } } | null)?.error;
        say(error?.message ?? `The export failed (${res.status}).`);
        return;
      }
      const reader = res.body.getReader();
      const parts: Uint8Array[] = [];
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        received += value.length;
        say(`Downloading… ${formatBytes(received)}`);
      }
      const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? "hearth-export.zip";
      save(new Blob(parts as BlobPart[], { type: "application/zip" }), name);
      say(`Done: ${name} (${formatBytes(received)}) is in your downloads.`);
    } catch {
      say("The download was interrupted. Try again.");
    } finally {
      busy = false;
      link.removeAttribute("aria-disabled");
    }
  });
}

function save(blob: Blob, name: string): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

function toChatMessage(m: ExportedMessage): ChatMessage {
  return {
    id: m.id,
    channel_id: m.channel_id,
    seq: m.seq,
    sender_id: m.sender_id,
    sender_name: null,
    sender_device_id: m.sender_device_id,
    client_id: m.client_id,
    scheme: m.scheme,
    ciphertext: m.ciphertext,
    reply_to_id: m.reply_to_id,
    thread_root_id: m.thread_root_id,
    mentions: [],
    mention_all: null,
    reactions: [],
    thread_reply_count: 0,
    created_at: m.created_at,
    edited_at: m.edited_at,
    deleted_at: null,
  };
}

function mountDecrypt(root: HTMLElement): void {
  const input = root.querySelector<HTMLInputElement>("[data-export-file]");
  const status = root.querySelector<HTMLElement>("[data-decrypt-status]");
  const saveLink = root.querySelector<HTMLAnchorElement>("[data-decrypt-save]");
  const userId = root.dataset.userId;
  if (!input || !status || !saveLink || !userId) return;
  const say = (text: string) => {
    status.textContent = text;
  };
  say("Choose your export file.");
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (!file) return;
    saveLink.hidden = true;
    if (saveLink.href) URL.revokeObjectURL(saveLink.href);
    try {
      say("Reading the file…");
      let files: Record<string, Uint8Array>;
      try {
        files = unzipSync(new Uint8Array(await file.arrayBuffer()));
      } catch {
        say("This is not a Hearth export (not a zip file).");
        return;
      }
      const account = files["account.json"] ? (JSON.parse(strFromU8(files["account.json"])) as { format?: string; user?: { id?: string } }) : null;
      if (!account || account.format !== "hearth-export v1" || !files["messages.jsonl"]) {
        say("This is not a Hearth export (account.json or messages.jsonl is missing).");
        return;
      }
      if (account.user?.id !== userId) {
        say("This export belongs to another account: sign in as its owner to decrypt it.");
        return;
      }
      const store = await IndexedDbKeyStore.open(`hearth-chat-${userId}`);
      if (!(await store.get("chat:device"))) {
        say("This browser holds no encryption keys for you. Open the chat here first (and restore your key backup), or use the device you chat on.");
        return;
      }
      const engine = await ChatEngine.open(userId, store);
      const lines = strFromU8(files["messages.jsonl"]).split("\n").filter((l) => l.trim() !== "");
      const out: { id: string; channel_id: string; channel_kind: string; community_id: string | null; created_at: string; edited_at: string | null; status: string; text: string | null; attachments: unknown[] | null; note: string | null }[] = [];
      let opened = 0;
      for (const [i, line] of lines.entries()) {
        const m = JSON.parse(line) as ExportedMessage;
        const outcome = await engine.decrypt(toChatMessage(m));
        const ok = outcome.status === "ok";
        if (ok) opened += 1;
        out.push({
          id: m.id,
          channel_id: m.channel_id,
          channel_kind: m.channel_kind,
          community_id: m.community_id,
          created_at: m.created_at,
          edited_at: m.edited_at,
          status: outcome.status,
          text: ok ? outcome.text : null,
          // File names, types and keys travel inside the message; the files themselves are not in the export.
          attachments: ok && outcome.files ? outcome.files : null,
          note: ok ? null : outcome.reason,
        });
        if (i % 25 === 0) say(`Decrypting… ${i + 1} of ${lines.length}`);
      }
      const readable = out.map((m) => `[${m.created_at}] (${m.channel_kind} ${m.channel_id}) ${m.text ?? `— ${m.note}`}`).join("\n");
      const archive: Record<string, Uint8Array> = {
        "README.txt": strToU8(`Readable copy of a Hearth export, made in this browser on ${new Date().toISOString()}.\nmessages.json and messages.txt hold your messages as text; the other files are copied from the export.\n${opened} of ${lines.length} messages were opened with this device's keys.\n`),
        "messages.json": strToU8(JSON.stringify(out, null, 2)),
        "messages.txt": strToU8(`${readable}\n`),
      };
      for (const [name, data] of Object.entries(files)) if (name !== "messages.jsonl" && name !== "README.txt") archive[name] = data;
      const zipped = zipSync(archive, { level: 6 });
      saveLink.href = URL.createObjectURL(new Blob([zipped as BlobPart], { type: "application/zip" }));
      saveLink.download = "hearth-export-readable.zip";
      saveLink.hidden = false;
      say(`Done: ${opened} of ${lines.length} messages opened${opened < lines.length ? " (the others are listed with the reason)" : ""}. Save the archive: it is readable by anyone who gets it.`);
      saveLink.focus();
    } catch (error) {
      say(`Could not decrypt the export: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

const download = document.querySelector<HTMLAnchorElement>("[data-export-download]");
if (download) mountDownload(download);
const decrypt = document.querySelector<HTMLElement>("[data-export-decrypt]");
if (decrypt) mountDecrypt(decrypt);
