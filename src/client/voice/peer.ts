// One peer connection of the mesh (docs/voice.md "What a client does" 3–6): perfect negotiation
// (the smaller connId is polite), trickled candidates, ICE restart, and the fingerprint
// attestation — no remote description is applied before the peer's device-signed attestation
// verified, and none whose `a=fingerprint` that attestation does not name (docs/crypto.md, "Calls").
import { attestationMismatch, attestationSignedBytes, encodeAttestationPlaintext, encodeRefusalNotice, fingerprintMismatch, parseAttestationPlaintext, parseRefusalNotice, type DtlsFingerprint } from "../../shared/call-attestation.ts";
import type { RtcCandidate, RtcSignal, RtcSignalEvent } from "../../shared/protocol.ts";
import type { DeviceRef, VoiceCrypto } from "./types.ts";

export type Seat = DeviceRef & { connId: string };

export type PeerEnv = {
  channelId: string;
  self: Seat;
  config: () => RTCConfiguration;
  /** Fresh TURN credentials when the ones in hand are about to expire (before an ICE restart). */
  refreshIce(): Promise<void>;
  fingerprints: DtlsFingerprint[];
  crypto: VoiceCrypto;
  /** Queues an entry for this peer; `now` flushes the batch at once (descriptions). */
  send(to: string, part: Omit<RtcSignal, "to">, now?: boolean): void;
  tracks(): { track: MediaStreamTrack; stream: MediaStream }[];
  onTrack(peer: Peer, track: MediaStreamTrack, stream: MediaStream): void;
  onChange(peer: Peer): void;
  /** `byPeer`: the other side refused us (its device said why, in a sealed refusal notice). */
  onRefused(peer: Peer, why: string, fingerprint: boolean, byPeer: boolean): void;
};

/** A peer that stays "disconnected" this long gets an ICE restart (a "failed" one at once). */
const DISCONNECTED_RESTART_MS = 3_000;
/**
 * Not connected this long after the peer connection was made: the row says so and why it may be
 * (a refusal notice the server dropped, a network that blocks the media). The connection keeps trying.
 */
export const STALLED_MS = 20_000;

export class Peer {
  pc: RTCPeerConnection | null = null;
  readonly polite: boolean;
  refused = "";
  /** True when the other side's device refused us (a refusal notice), not this one. */
  refusedByPeer = false;
  /** Still not connected STALLED_MS after the peer connection was made. */
  stalled = false;
  closed = false;
  private makingOffer = false;
  private ignoreOffer = false;
  private settingAnswer = false;
  private attested: DtlsFingerprint[] | null = null;
  private attestation = "";
  private sentOnce = false;
  private pending: RtcCandidate[] = [];
  private chain: Promise<unknown>;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private stallTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last sealed blob opened from this peer (attestations repeat with every description). */
  private openedWire = "";

  constructor(
    private readonly env: PeerEnv,
    readonly remote: Seat,
  ) {
    this.polite = env.self.connId < remote.connId;
    // The attestation is sealed before the connection exists, so it rides on the first entry.
    this.chain = this.seal().then(
      () => this.open(),
      () => this.refuse("no encrypted session could be set up with their device", false),
    );
  }

  get state(): RTCPeerConnectionState | "refused" | "starting" {
    return this.refused ? "refused" : this.pc ? this.pc.connectionState : "starting";
  }

  private async seal(): Promise<void> {
    const { env, remote } = this;
    const a = {
      v: 1 as const,
      channelId: env.channelId,
      fromUserId: env.self.userId,
      fromDeviceId: env.self.deviceId,
      fromConnId: env.self.connId,
      toUserId: remote.userId,
      toDeviceId: remote.deviceId,
      toConnId: remote.connId,
      fingerprints: env.fingerprints,
      issuedAt: Date.now(),
    };
    const plaintext = encodeAttestationPlaintext(a, env.crypto.signCallBytes(attestationSignedBytes(a)));
    this.attestation = await env.crypto.sealForDevice(remote, plaintext);
  }

  private open(): void {
    if (this.closed) return;
    const pc = new RTCPeerConnection(this.env.config());
    this.pc = pc;
    for (const { track, stream } of this.env.tracks()) pc.addTrack(track, stream);
    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.sendLocal();
      } catch {
        // A collision the other side wins: its offer follows.
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => this.post({ candidates: [candidate ? (candidate.toJSON() as RtcCandidate) : { candidate: "" }] });
    pc.ontrack = ({ track, streams }) => this.env.onTrack(this, track, streams[0] ?? new MediaStream([track]));
    pc.oniceconnectionstatechange = () => {
      clearTimeout(this.restartTimer);
      if (pc.iceConnectionState === "failed") this.restartIce();
      else if (pc.iceConnectionState === "disconnected") this.restartTimer = setTimeout(() => this.restartIce(), DISCONNECTED_RESTART_MS);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") this.stalled = false;
      this.env.onChange(this);
    };
    this.stallTimer = setTimeout(() => {
      if (this.closed || pc.connectionState === "connected") return;
      this.stalled = true;
      this.env.onChange(this);
    }, STALLED_MS);
    this.env.onChange(this);
  }

  /** A new ICE generation (network change, failure); the negotiationneeded offer carries it. */
  restartIce(): void {
    void this.env.refreshIce().then(() => {
      if (this.pc && !this.closed && this.pc.signalingState !== "closed") {
        this.pc.setConfiguration(this.env.config());
        this.pc.restartIce();
      }
    });
  }

  private post(part: Omit<RtcSignal, "to">, now = false): void {
    if (this.closed) return;
    // The attestation goes with the first entry and with every description (a dropped first
    // entry must not leave the peer unable to check the fingerprint).
    const attach = !this.sentOnce || part.description !== undefined;
    this.sentOnce = true;
    this.env.send(this.remote.connId, attach ? { ...part, attestation: this.attestation } : part, now);
  }

  private sendLocal(): void {
    const d = this.pc?.localDescription;
    if (d && (d.type === "offer" || d.type === "answer")) this.post({ description: { type: d.type, sdp: d.sdp } }, true);
  }

  /** Signals from this peer, handled one at a time in arrival order. */
  receive(signal: RtcSignalEvent): void {
    this.chain = this.chain.then(() => this.handle(signal)).catch((error) => console.warn("call signal", error));
  }

  private async handle(signal: RtcSignalEvent): Promise<void> {
    if (this.closed || !this.pc) return;
    if (signal.attestation && signal.attestation !== this.openedWire) {
      this.openedWire = signal.attestation;
      await this.verify(signal.attestation);
    }
    const pc = this.pc;
    if (this.closed) return;
    const description = signal.description;
    if (description) {
      if (!this.attested) return this.refuse("no signed fingerprint came with its description", true);
      const mismatch = fingerprintMismatch(description.sdp, this.attested);
      if (mismatch) return this.refuse(mismatch, true);
      const readyForOffer = !this.makingOffer && (pc.signalingState === "stable" || this.settingAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      this.settingAnswer = description.type === "answer";
      await pc.setRemoteDescription(description);
      this.settingAnswer = false;
      if (description.type === "offer") {
        await pc.setLocalDescription();
        this.sendLocal();
      }
      const queued = this.pending;
      this.pending = [];
      for (const c of queued) await this.addCandidate(c);
    }
    for (const c of signal.candidates ?? []) {
      if (!pc.remoteDescription) this.pending.push(c);
      else await this.addCandidate(c);
    }
  }

  private async addCandidate(c: RtcCandidate): Promise<void> {
    try {
      await this.pc?.addIceCandidate(c);
    } catch {
      // A candidate of an offer we ignored, or of an old ICE generation: nothing to do.
    }
  }

  private async verify(wire: string): Promise<void> {
    const { env, remote } = this;
    let opened: { plaintext: Uint8Array; signingKey: Uint8Array };
    try {
      opened = await env.crypto.openFromDevice(remote, wire);
    } catch {
      return this.attested ? undefined : this.refuse("its fingerprint attestation could not be decrypted", true);
    }
    const notice = parseRefusalNotice(opened.plaintext);
    if (notice) {
      // Only a notice about these two bindings counts (the ratchet already proved the device).
      if (notice.channelId === env.channelId && notice.fromConnId === remote.connId && notice.toConnId === env.self.connId) this.refuse(notice.reason, true, true);
      return;
    }
    if (this.attested) return; // the first attestation holds for this peer connection
    const parsed = parseAttestationPlaintext(opened.plaintext);
    if (!parsed || !env.crypto.verifyCallBytes(opened.signingKey, attestationSignedBytes(parsed.attestation), parsed.signature)) return this.refuse("its fingerprint attestation is not signed by its device", true);
    const why = attestationMismatch(parsed.attestation, {
      channelId: env.channelId,
      fromUserId: remote.userId,
      fromDeviceId: remote.deviceId,
      fromConnId: remote.connId,
      toUserId: env.self.userId,
      toDeviceId: env.self.deviceId,
      toConnId: env.self.connId,
      nowMs: Date.now(),
    });
    if (why) return this.refuse(why, true);
    this.attested = parsed.attestation.fingerprints;
  }

  private refuse(why: string, fingerprint: boolean, byPeer = false): void {
    if (this.closed) return;
    this.refused = why;
    this.refusedByPeer = byPeer;
    this.close();
    this.env.onRefused(this, why, fingerprint, byPeer);
    // Tell the other side why (it would only see "connecting…"), sealed for its device: best
    // effort, there may be no session (the reason for some refusals) and the server may drop it.
    if (byPeer || !fingerprint) return;
    const { env, remote } = this;
    const bytes = encodeRefusalNotice({ channelId: env.channelId, fromConnId: env.self.connId, toConnId: remote.connId, reason: why });
    void env.crypto.sealForDevice(remote, bytes).then((wire) => env.send(remote.connId, { attestation: wire }, true), () => {});
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stallTimer);
    this.pc?.close();
    this.env.onChange(this);
  }
}
