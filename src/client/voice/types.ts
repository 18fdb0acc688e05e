// What chat.js hands the call client (its own bundle, chat-voice.js; docs/voice.md "What a client
// does"): the page's socket and E2EE device, without bundling either twice.
import type { ClientFrame, ErrorFrame, EventFrame } from "../../shared/protocol.ts";
import type { CallRecord } from "../chat/call-record.ts";

export type DeviceRef = { userId: string; deviceId: string };

export type VoiceCrypto = {
  readonly deviceId: string;
  sealForDevice(ref: DeviceRef, bytes: Uint8Array): Promise<string>;
  openFromDevice(ref: DeviceRef, wire: string): Promise<{ plaintext: Uint8Array; signingKey: Uint8Array }>;
  signCallBytes(bytes: Uint8Array): Uint8Array;
  verifyCallBytes(signingKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean;
};

export type VoiceHub = {
  send(frame: ClientFrame): boolean;
  subscribe(channelIds: string[]): void;
  unsubscribe(channelIds: string[]): void;
  readonly isOpen: boolean;
};

export type VoiceHost = {
  selfId: string;
  hub: VoiceHub;
  /** The E2EE device, opened on first use (a page that only shows who is in a call needs none). */
  crypto(): Promise<VoiceCrypto>;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Writes a call record into a conversation (an encrypted message; chat.js's send path). */
  sendRecord(channelId: string, scheme: "pw" | "sk", record: CallRecord): Promise<void>;
};

export type VoiceModule = {
  start(host: VoiceHost): void;
  /** voice:* and rtc:* events, subscription:revoked, errors whose ref starts with "voice". */
  onFrame(frame: EventFrame | ErrorFrame): void;
  /** The socket came back: rejoin within the grace. */
  onReconnected(): void;
  /** The page changed (a boosted navigation): draw rosters, panels and the call bar again. */
  onPage(): void;
};
