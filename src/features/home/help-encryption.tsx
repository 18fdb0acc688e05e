/**
 * GET /help/encryption: what the states of an encrypted message mean (issue 11 §4). The chat
 * links "can't be decrypted" here. Static, public (no ids, nothing about anyone), so it needs no
 * sign-in; the words match docs/crypto.md "What a reader sees".
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { page } from "../../http/render.ts";
import { Layout } from "../../../views/layout.tsx";

export function helpRoutes(deps: AppDeps) {
  return new Elysia({ name: "help" }).get("/help/encryption", () =>
    page(
      <Layout title="Encrypted messages" assets={deps.assets.page()}>
        <article class="stack help">
          <h1>Encrypted messages</h1>
          <p>
            Messages in Hearth are end-to-end encrypted: only the devices of the people who can read a conversation hold the keys. The server stores ciphertext it
            cannot read. When a message shows a note instead of its text, the note is one of these.
          </p>
          <h2 id="waiting">“Waiting for the key from …’s device”</h2>
          <p>
            Your device does not hold this message’s key yet, and it has asked the sender’s device, your other devices and a few other members’ devices for it. It
            appears as soon as one of them is online and sends it. <strong>Retry</strong> asks again at once.
          </p>
          <h2 id="before-joined">“Sent before you joined — this channel does not share history”</h2>
          <p>
            The channel’s admins chose that new members read only what is said after they join. Nobody will send you keys to earlier messages. In channels whose
            header says “History shared”, members’ devices pass those keys to newcomers.
          </p>
          <h2 id="cannot-decrypt">“Can’t be decrypted”</h2>
          <p>
            The message arrived but cannot be read on this device, for the reason given: it was altered or damaged after it was sent (your device refuses to show
            anything it cannot authenticate), it was written by a newer version of Hearth (reload the page), or the members who hold its key say you could not read the
            conversation when it was sent. Nobody — including the server’s administrator — can recover such a message for you.
          </p>
          <h2 id="new-device">On a new device</h2>
          <p>
            A new device asks your other devices for the keys of messages you could read before. With a key backup, entering your recovery key also restores them.
          </p>
          <h2 id="verify">Verifying the people you talk to</h2>
          <p>
            “Verify” in a conversation shows a 60-digit safety number and a QR code for each of the other person’s devices, computed on your device from both
            devices’ keys. Compare the digits with them in person or on a call you trust; if they match, nobody in between (not even the server) swapped their keys.
            Mark them as verified and a badge shows it. If a verified person later adds a device or sets one up again, your next message to them waits until you
            confirm you know about it; they then show as not verified until you compare again. Your own devices are listed, and can be removed, in Settings › Security.
          </p>
          <h2 id="server-identity">“This server’s identity has changed”</h2>
          <p>
            The first time your device connects, it remembers the server’s identity key, and on every load the server has to prove it still holds that key. A
            different key means the server was reinstalled or restored without its keys — or that you are not talking to your real server. Messages stay end-to-end
            encrypted, but a server you cannot trust could hand you wrong keys for other people. Ask your administrator, through another channel, whether the server
            was replaced and compare the fingerprint shown with theirs; only then trust the new identity. Sending from that device is paused until you do.
          </p>
        </article>
      </Layout>,
    ),
  );
}
