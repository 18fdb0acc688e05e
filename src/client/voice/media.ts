// The local side of a call's audio: the microphone (asked on the Join click), a level meter for
// the speaking indicator (WebAudio analyser), device lists, and remote playback through detached
// <audio> elements — outside the DOM, so htmx swapping the page cannot stop them.

export type MicError = "PERMISSION_DENIED" | "NO_MICROPHONE" | "MIC_FAILED";

export class MicError_ extends Error {
  constructor(readonly code: MicError) {
    super(code);
  }
}

export async function openMicrophone(deviceId?: string): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) throw new MicError_("NO_MICROPHONE");
  const audio: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) };
  try {
    return await navigator.mediaDevices.getUserMedia({ audio });
  } catch (error) {
    const name = (error as DOMException).name;
    if (name === "NotAllowedError" || name === "SecurityError") throw new MicError_("PERMISSION_DENIED");
    if (name === "NotFoundError" || name === "OverconstrainedError") throw new MicError_("NO_MICROPHONE");
    throw new MicError_("MIC_FAILED");
  }
}

/** Speaking = the level stays above a threshold; a short hold avoids flapping between words. */
const SPEAKING_LEVEL = 0.02;
const HOLD_MS = 400;
/** Each read looks at the last FFT_SIZE samples (2048 ≈ 43–46 ms at 44.1–48 kHz), and reads come
 *  every READ_MS, so the windows overlap and a short sound between two reads is never missed.
 *  (With a 21 ms window read every 100 ms, a sound repeating at a multiple of 100 ms — Chromium's
 *  fake microphone beeps every 500 ms — could fall between reads for good.) */
const FFT_SIZE = 2048;
const READ_MS = 40;

export class LevelMeter {
  private ctx: AudioContext | null = null;
  private source: MediaStreamAudioSourceNode | null = null;
  private analyser: AnalyserNode | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastLoud = 0;
  speaking = false;

  constructor(private readonly onSpeaking: (speaking: boolean) => void) {}

  attach(stream: MediaStream): void {
    this.detachSource();
    try {
      this.ctx ??= new AudioContext();
      void this.ctx.resume().catch(() => {});
      this.source = this.ctx.createMediaStreamSource(stream);
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = FFT_SIZE;
      this.source.connect(this.analyser);
    } catch {
      return; // no WebAudio: no speaking indicator, the call works
    }
    const buf = new Float32Array(this.analyser.fftSize);
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      const track = stream.getAudioTracks()[0];
      let loud = false;
      if (this.analyser && track?.enabled) {
        this.analyser.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const v of buf) sum += v * v;
        loud = Math.sqrt(sum / buf.length) > SPEAKING_LEVEL;
      }
      const now = performance.now();
      if (loud) this.lastLoud = now;
      const speaking = loud || (track?.enabled === true && now - this.lastLoud < HOLD_MS);
      if (speaking !== this.speaking) {
        this.speaking = speaking;
        this.onSpeaking(speaking);
      }
    }, READ_MS);
  }

  private detachSource(): void {
    this.source?.disconnect();
    this.source = null;
  }

  stop(): void {
    clearInterval(this.timer);
    this.detachSource();
    void this.ctx?.close().catch(() => {});
    this.ctx = null;
  }
}

export type Devices = { inputs: MediaDeviceInfo[]; outputs: MediaDeviceInfo[] };

export async function listDevices(): Promise<Devices> {
  const all = await navigator.mediaDevices?.enumerateDevices?.().catch(() => []) ?? [];
  return { inputs: all.filter((d) => d.kind === "audioinput"), outputs: canChooseOutput() ? all.filter((d) => d.kind === "audiooutput") : [] };
}

export const canChooseOutput = (): boolean => typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;

/** One person's audio: a detached element (per-person volume, output device, deafen). */
export class RemoteAudio {
  readonly el = new Audio();
  constructor(stream: MediaStream) {
    this.el.autoplay = true;
    this.el.srcObject = stream;
    void this.el.play().catch(() => {});
  }
  set(volume: number, deafened: boolean, sinkId: string): void {
    this.el.volume = Math.min(1, Math.max(0, volume));
    this.el.muted = deafened;
    const el = this.el as HTMLAudioElement & { sinkId?: string; setSinkId?(id: string): Promise<void> };
    if (el.setSinkId && (el.sinkId ?? "") !== sinkId) void el.setSinkId(sinkId).catch(() => {});
  }
  stop(): void {
    this.el.pause();
    this.el.srcObject = null;
  }
}
