// The call this tab sits in (docs/voice.md "What a client does"): one seat, one certificate, one
// microphone, and a peer connection per other participant (the mesh), keyed by connId. Outgoing
// signals are batched: one `rtc:signal` frame carries an entry per peer, trickled candidates are
// collected for ~60 ms (the socket allows 10 frames/s after a burst of 30).
import type { DtlsFingerprint } from "../../shared/call-attestation.ts";
import { MAX_SIGNALS_PER_FRAME, type RtcSignal, type RtcSignalEvent, type VoiceParticipant } from "../../shared/protocol.ts";
import { LevelMeter, openMicrophone, RemoteAudio } from "./media.ts";
import { Peer, type Seat } from "./peer.ts";
import type { VoiceCrypto, VoiceHost } from "./types.ts";

export type IceAnswer = { iceServers: RTCIceServer[]; expiresAt: string | null };

const BATCH_MS = 60;
/** A frame stays well under the 128 KiB frame limit: entries beyond this go in another frame. */
const MAX_FRAME_CHARS = 96 * 1024;

export type CallEvents = {
  changed(): void;
  speaking(userId: string, speaking: boolean): void;
  refused(userId: string, why: string, fingerprint: boolean, byPeer: boolean): void;
};

export class Call {
  connId = "";
  joined = false;
  readonly participants = new Map<string, VoiceParticipant>();
  readonly peers = new Map<string, Peer>();
  /** Remote playback and video by `${connId} ${stream id}` (a screen share with tab audio is a second stream). */
  readonly audio = new Map<string, { connId: string; userId: string; audio: RemoteAudio }>();
  readonly videos = new Map<string, { connId: string; userId: string; el: HTMLVideoElement }>();
  camera: MediaStream | null = null;
  screen: MediaStream | null = null;
  /** Per-person volume (0–1), kept for the whole page session. */
  static readonly volumes = new Map<string, number>();
  muted = false;
  deafened = false;
  pushToTalk = false;
  private talking = false;
  sinkId = "";
  inputId = "";
  private outbox = new Map<string, RtcSignal>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly meter: LevelMeter;
  private fingerprints: DtlsFingerprint[];
  private readonly onNetwork = () => {
    for (const p of this.peers.values()) p.restartIce();
  };

  constructor(
    private readonly host: VoiceHost,
    readonly channelId: string,
    readonly kind: "community" | "conversation",
    readonly name: string,
    public mic: MediaStream,
    private readonly cert: RTCCertificate,
    private ice: IceAnswer,
    private readonly events: CallEvents,
    readonly crypto: VoiceCrypto,
  ) {
    this.fingerprints = cert.getFingerprints().map((f) => ({ algorithm: f.algorithm ?? "", value: f.value ?? "" }));
    this.meter = new LevelMeter((speaking) => {
      if (this.joined) this.host.hub.send({ type: "voice:state", channelId, speaking });
      this.events.speaking(host.selfId, speaking);
    });
    this.meter.attach(mic);
    addEventListener("online", this.onNetwork);
    (navigator as Navigator & { connection?: EventTarget }).connection?.addEventListener?.("change", this.onNetwork);
  }

  /** voice:joined (also a re-bind after a reconnect: a new connId, every peer offered again). */
  joinedAs(connId: string, participants: VoiceParticipant[]): void {
    if (connId !== this.connId) for (const p of [...this.peers.values()]) this.dropPeer(p.remote.connId);
    this.connId = connId;
    this.joined = true;
    this.participants.clear();
    for (const p of participants) this.participants.set(p.userId, p);
    // The newcomer offers to everyone already in the call (negotiationneeded once its track is added).
    for (const p of participants) if (p.userId !== this.host.selfId && p.connected) this.peerFor(p);
    this.applyMicState();
    this.events.changed();
  }

  private config(): RTCConfiguration {
    return { iceServers: this.ice.iceServers, certificates: [this.cert] };
  }

  private refreshing: Promise<void> | null = null;
  private refreshIce(): Promise<void> {
    if (!this.ice.expiresAt || Date.parse(this.ice.expiresAt) - Date.now() > 60_000) return Promise.resolve();
    this.refreshing ??= this.host
      .call<IceAnswer>("GET", "/api/account/turn-credentials")
      .then((ice) => void (this.ice = ice), () => {})
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private peerFor(p: Seat): Peer {
    let peer = this.peers.get(p.connId);
    if (peer) return peer;
    peer = new Peer(
      {
        channelId: this.channelId,
        self: { userId: this.host.selfId, deviceId: this.crypto.deviceId, connId: this.connId },
        config: () => this.config(),
        refreshIce: () => this.refreshIce(),
        fingerprints: this.fingerprints,
        crypto: this.crypto,
        send: (to, part, now) => this.queue(to, part, now),
        tracks: () => [this.mic, this.camera, this.screen].flatMap((stream) => (stream ? stream.getTracks().map((track) => ({ track, stream })) : [])),
        onTrack: (peer, track, stream) => this.remoteTrack(peer, track, stream),
        onChange: () => this.events.changed(),
        onRefused: (peer, why, fingerprint, byPeer) => this.events.refused(peer.remote.userId, why, fingerprint, byPeer),
      },
      { userId: p.userId, deviceId: p.deviceId, connId: p.connId },
    );
    this.peers.set(p.connId, peer);
    return peer;
  }

  /** A relayed signal: from a participant's current seat, addressed to this binding. */
  onSignal(s: RtcSignalEvent): void {
    if (!this.joined || s.to !== this.connId || s.channelId !== this.channelId) return;
    const seat = this.participants.get(s.fromUserId);
    if (seat && seat.connId !== s.from) return; // an old binding of that person
    // The participant list names the device; a signal ahead of its participant_joined names its own.
    const peer = this.peerFor({ userId: s.fromUserId, connId: s.from, deviceId: seat?.deviceId ?? s.fromDeviceId });
    peer.receive(s);
  }

  participantJoined(p: VoiceParticipant): void {
    this.participantUpdated(p);
  }

  participantUpdated(p: VoiceParticipant): void {
    const before = this.participants.get(p.userId);
    if (before && before.connId !== p.connId) this.dropPeer(before.connId); // re-bound: it offers again
    this.participants.set(p.userId, p);
    this.applyCaps();
    this.events.changed();
  }

  participantLeft(userId: string, connId: string): void {
    const seat = this.participants.get(userId);
    this.participants.delete(userId);
    if (seat) this.dropPeer(seat.connId);
    this.dropPeer(connId);
    this.applyCaps();
    this.events.changed();
  }

  private dropPeer(connId: string): void {
    this.peers.get(connId)?.close();
    this.peers.delete(connId);
    for (const [key, a] of this.audio) if (a.connId === connId) (a.audio.stop(), this.audio.delete(key));
    for (const [key, v] of this.videos) if (v.connId === connId) (v.el.remove(), this.videos.delete(key));
  }

  private remoteTrack(peer: Peer, track: MediaStreamTrack, stream: MediaStream): void {
    const { connId, userId } = peer.remote;
    const key = `${connId} ${stream.id}`;
    if (track.kind === "audio" && !this.audio.has(key)) {
      this.audio.set(key, { connId, userId, audio: new RemoteAudio(stream) });
      this.applyAudio();
    }
    if (track.kind === "video" && !this.videos.has(key)) {
      const el = document.createElement("video");
      el.autoplay = el.muted = el.playsInline = true;
      el.srcObject = stream;
      this.videos.set(key, { connId, userId, el });
      // The sender stopped this stream (camera off, share ended): its tile goes.
      const gone = () => {
        if (stream.getVideoTracks().some((t) => t.readyState === "live" && !t.muted)) return;
        el.remove();
        this.videos.delete(key);
        this.events.changed();
      };
      stream.addEventListener("removetrack", gone);
      track.addEventListener("mute", gone);
      track.addEventListener("unmute", () => {
        if (!this.videos.has(key) && this.peers.get(connId) === peer) this.videos.set(key, { connId, userId, el }), this.events.changed();
      });
      this.events.changed();
    }
  }

  // ------------------------------------------------------------------ camera and screen

  /**
   * What one outgoing video stream may use. The mesh sends one copy per peer, so the caps step
   * down as the call grows (docs/voice.md "Video caps"): a 2-core laptop encodes n − 1 streams.
   */
  videoCaps(screen = false): { width: number; height: number; frameRate: number; maxBitrate: number } {
    const n = Math.max(2, this.participants.size);
    if (screen) return n <= 4 ? { width: 1920, height: 1080, frameRate: 15, maxBitrate: 1_200_000 } : { width: 1280, height: 720, frameRate: 8, maxBitrate: 400_000 };
    if (n <= 2) return { width: 1280, height: 720, frameRate: 30, maxBitrate: 1_200_000 };
    if (n <= 4) return { width: 640, height: 360, frameRate: 24, maxBitrate: 450_000 };
    return { width: 320, height: 180, frameRate: 15, maxBitrate: 150_000 };
  }

  /** Applies the caps for the current size to the camera and the screen, on every peer connection. */
  applyCaps(): void {
    for (const [stream, screen] of [[this.camera, false], [this.screen, true]] as const) {
      const track = stream?.getVideoTracks()[0];
      if (!track) continue;
      const caps = this.videoCaps(screen);
      void track.applyConstraints({ width: { max: caps.width }, height: { max: caps.height }, frameRate: { max: caps.frameRate } }).catch(() => {});
      for (const p of this.peers.values()) {
        const sender = p.pc?.getSenders().find((s) => s.track === track);
        if (!sender) continue;
        const params = sender.getParameters();
        if (!params.encodings?.length) continue; // before negotiation: applied on the next change
        params.encodings[0]!.maxBitrate = caps.maxBitrate;
        void sender.setParameters(params).catch(() => {});
      }
    }
  }

  private addStream(stream: MediaStream): void {
    for (const p of this.peers.values()) for (const track of stream.getTracks()) if (p.pc && p.pc.signalingState !== "closed") p.pc.addTrack(track, stream);
  }

  private removeStream(stream: MediaStream): void {
    for (const p of this.peers.values()) {
      for (const sender of p.pc?.getSenders() ?? []) if (sender.track && stream.getTracks().includes(sender.track) && p.pc!.signalingState !== "closed") p.pc!.removeTrack(sender);
    }
    for (const t of stream.getTracks()) t.stop();
  }

  async setCamera(on: boolean): Promise<void> {
    if (on === !!this.camera) return;
    if (on) {
      const caps = this.videoCaps();
      this.camera = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: caps.width }, height: { ideal: caps.height }, frameRate: { max: caps.frameRate } } });
      this.addStream(this.camera);
      setTimeout(() => this.applyCaps(), 2_000);
    } else {
      this.removeStream(this.camera!);
      this.camera = null;
    }
    this.host.hub.send({ type: "voice:state", channelId: this.channelId, video: on });
    this.events.changed();
  }

  /** A screen or window (with tab audio where the browser offers it); the browser's own Stop ends it too. */
  async setScreen(on: boolean): Promise<void> {
    if (on === !!this.screen) return;
    if (on) {
      const caps = this.videoCaps(true);
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { max: caps.frameRate } }, audio: true });
      this.screen = stream;
      stream.getVideoTracks()[0]?.addEventListener("ended", () => void this.setScreen(false));
      this.addStream(stream);
      setTimeout(() => this.applyCaps(), 2_000);
    } else {
      this.removeStream(this.screen!);
      this.screen = null;
    }
    this.host.hub.send({ type: "voice:state", channelId: this.channelId, screen: on });
    this.events.changed();
  }

  private queue(to: string, part: Omit<RtcSignal, "to">, now = false): void {
    const entry = this.outbox.get(to) ?? { to };
    if (part.description) entry.description = part.description;
    if (part.attestation) entry.attestation = part.attestation;
    if (part.candidates) entry.candidates = [...(entry.candidates ?? []), ...part.candidates];
    this.outbox.set(to, entry);
    // Candidates are bounded per entry: a full entry goes now.
    if (now || (entry.candidates?.length ?? 0) >= 24) return this.flush();
    this.flushTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const entries = [...this.outbox.values()];
    this.outbox.clear();
    let batch: RtcSignal[] = [];
    let size = 0;
    const send = () => {
      if (batch.length) this.host.hub.send({ type: "rtc:signal", channelId: this.channelId, signals: batch });
      batch = [];
      size = 0;
    };
    for (const e of entries) {
      const chars = JSON.stringify(e).length;
      if (batch.length >= MAX_SIGNALS_PER_FRAME || size + chars > MAX_FRAME_CHARS) send();
      batch.push(e);
      size += chars;
    }
    send();
  }

  // ------------------------------------------------------------------ local state

  setMuted(muted: boolean): void {
    this.muted = muted;
    if (!muted && this.deafened) this.deafened = false;
    this.applyMicState();
    this.host.hub.send({ type: "voice:state", channelId: this.channelId, muted: this.muted, deafened: this.deafened });
    this.events.changed();
  }

  setDeafened(deafened: boolean): void {
    this.deafened = deafened;
    // Deafened means muted too (nobody talks into a call they cannot hear).
    if (deafened) this.muted = true;
    this.applyMicState();
    this.applyAudio();
    this.host.hub.send({ type: "voice:state", channelId: this.channelId, muted: this.muted, deafened: this.deafened });
    this.events.changed();
  }

  setPushToTalk(on: boolean): void {
    this.pushToTalk = on;
    this.talking = false;
    this.applyMicState();
    this.events.changed();
  }

  /** The push-to-talk key went down or up. */
  talk(down: boolean): void {
    if (!this.pushToTalk || this.talking === down) return;
    this.talking = down;
    this.applyMicState();
  }

  /** Sending audio: not muted, and with push-to-talk only while the key is held. */
  get sending(): boolean {
    return !this.muted && (!this.pushToTalk || this.talking);
  }

  private applyMicState(): void {
    for (const t of this.mic.getAudioTracks()) t.enabled = this.sending;
  }

  setVolume(userId: string, volume: number): void {
    Call.volumes.set(userId, volume);
    this.applyAudio();
  }

  setOutput(sinkId: string): void {
    this.sinkId = sinkId;
    this.applyAudio();
  }

  applyAudio(): void {
    for (const a of this.audio.values()) a.audio.set(Call.volumes.get(a.userId) ?? 1, this.deafened, this.sinkId);
  }

  /** Another microphone: its track replaces the old one on every peer connection. */
  async setInput(deviceId: string): Promise<void> {
    const next = await openMicrophone(deviceId || undefined);
    const track = next.getAudioTracks()[0]!;
    for (const p of this.peers.values()) {
      for (const sender of p.pc?.getSenders() ?? []) if (sender.track?.kind === "audio") await sender.replaceTrack(track);
    }
    for (const t of this.mic.getTracks()) t.stop();
    this.mic = next;
    this.inputId = deviceId;
    this.applyMicState();
    this.meter.attach(next);
  }

  /** Hangs up this tab's side: peers closed, microphone and meter stopped. */
  end(): void {
    this.joined = false;
    clearTimeout(this.flushTimer);
    for (const connId of [...this.peers.keys()]) this.dropPeer(connId);
    for (const stream of [this.mic, this.camera, this.screen]) for (const t of stream?.getTracks() ?? []) t.stop();
    this.camera = this.screen = null;
    this.meter.stop();
    removeEventListener("online", this.onNetwork);
    (navigator as Navigator & { connection?: EventTarget }).connection?.removeEventListener?.("change", this.onNetwork);
  }
}
