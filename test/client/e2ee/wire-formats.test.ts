import { describe, expect, test } from "bun:test";
import {
  decodeBase64url,
  encodeAttachmentHeader,
  encodeBase64url,
  encodeDevicePublicBundle,
  encodeKeyBackupBlob,
  encodePairwiseEnvelope,
  encodePrekeyBundle,
  encodeRatchetMessage,
  encodeSenderKeyDistribution,
  encodeSenderKeyMessage,
  MAX_BACKUP_JSON_BYTES,
  MAX_BUNDLE_JSON_BYTES,
  MAX_ENVELOPE_JSON_BYTES,
  MAX_MESSAGE_JSON_BYTES,
  parseAttachmentHeader,
  parseDevicePublicBundle,
  parseKeyBackupBlob,
  parsePairwiseEnvelope,
  parsePrekeyBundle,
  parsePrekeyBundleList,
  encodePrekeyBundleList,
  parseRatchetMessage,
  parseSenderKeyDistribution,
  parseSenderKeyMessage,
  validateSignedPrekeySignature,
  WireFormatError,
} from "../../../src/shared/e2ee/index.ts";
import { exportDevicePublicBundle } from "../../../src/client/e2ee/index.ts";
import { createDevice, createSeededRandom } from "./test-helpers.ts";

type Json = Record<string, unknown>;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof WireFormatError) return error.code;
    throw error;
  }
  return undefined;
}

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);
const b64 = (n: number) => encodeBase64url(bytes(n));

/** Sets `path` (dotted) in a deep copy of `obj` to `value` (undefined deletes). */
function withField(obj: Json, path: string, value: unknown): Json {
  const copy = JSON.parse(JSON.stringify(obj)) as Json;
  const keys = path.split(".");
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  if (value === undefined) delete target[keys.at(-1)!];
  else target[keys.at(-1)!] = value;
  return copy;
}

const device = createDevice("alice", "alice-phone");
const deviceBundle = encodeDevicePublicBundle(exportDevicePublicBundle(device));
const ratchetMessage = encodeRatchetMessage({
  x3dh: { signingKey: bytes(32), identityKey: bytes(32), ephemeralKey: bytes(32), signedPrekeyId: 1, oneTimePrekeyId: 2 },
  header: { dh: bytes(32), pn: 3, n: 4 },
  ciphertext: bytes(40),
});

interface Format {
  name: string;
  parse: (input: unknown) => unknown;
  valid: Json;
  /** Binary fields (dotted paths) with their exact or maximum byte length. */
  binaryFields: Array<[string, number]>;
  requiredFields: string[];
  /** Largest JSON text the parser accepts. */
  maxJsonBytes: number;
}

const formats: Format[] = [
  {
    name: "device public bundle",
    maxJsonBytes: MAX_BUNDLE_JSON_BYTES,
    parse: parseDevicePublicBundle,
    valid: deviceBundle,
    binaryFields: [["signingKey", 32], ["identityKey", 32], ["signedPrekey.publicKey", 32], ["signedPrekey.signature", 64], ["oneTimePrekeys.0.publicKey", 32]],
    requiredFields: ["deviceId", "signingKey", "identityKey", "signedPrekey", "signedPrekey.id", "oneTimePrekeys", "oneTimePrekeys.0.id"],
  },
  {
    name: "prekey bundle",
    maxJsonBytes: MAX_BUNDLE_JSON_BYTES,
    parse: parsePrekeyBundle,
    valid: encodePrekeyBundle({
      userId: "alice",
      deviceId: "alice-phone",
      signingKey: bytes(32),
      identityKey: bytes(32),
      signedPrekey: { id: 1, publicKey: bytes(32), signature: bytes(64) },
      oneTimePrekey: { id: 9, publicKey: bytes(32) },
    }),
    binaryFields: [["signingKey", 32], ["identityKey", 32], ["signedPrekey.signature", 64], ["oneTimePrekey.publicKey", 32]],
    requiredFields: ["userId", "deviceId", "signingKey", "identityKey", "signedPrekey", "signedPrekey.publicKey", "oneTimePrekey.id"],
  },
  {
    name: "ratchet message with X3DH header",
    maxJsonBytes: MAX_MESSAGE_JSON_BYTES,
    parse: parseRatchetMessage,
    valid: ratchetMessage,
    binaryFields: [["header.dh", 32], ["x3dh.signingKey", 32], ["x3dh.identityKey", 32], ["x3dh.ephemeralKey", 32]],
    requiredFields: ["header", "header.dh", "header.pn", "header.n", "ciphertext", "x3dh.ephemeralKey", "x3dh.signedPrekeyId"],
  },
  {
    name: "sender key distribution",
    maxJsonBytes: 4096,
    parse: parseSenderKeyDistribution,
    valid: encodeSenderKeyDistribution({ channelId: "c1", keyId: 5, iteration: 0, chainKey: bytes(32), signingKey: bytes(32) }),
    binaryFields: [["chainKey", 32], ["signingKey", 32]],
    requiredFields: ["channelId", "keyId", "iteration", "chainKey", "signingKey"],
  },
  {
    name: "sender key message",
    maxJsonBytes: MAX_MESSAGE_JSON_BYTES,
    parse: parseSenderKeyMessage,
    valid: encodeSenderKeyMessage({ keyId: 5, iteration: 2, ciphertext: bytes(30), signature: bytes(64) }),
    binaryFields: [["signature", 64]],
    requiredFields: ["keyId", "iteration", "ciphertext", "signature"],
  },
  {
    name: "pairwise envelope",
    maxJsonBytes: MAX_ENVELOPE_JSON_BYTES,
    parse: parsePairwiseEnvelope,
    valid: encodePairwiseEnvelope({
      senderDeviceId: "alice-phone",
      recipients: [
        { deviceId: "bob-laptop", message: parseRatchetMessage(ratchetMessage) },
        { deviceId: "bob-phone", message: parseRatchetMessage(ratchetMessage) },
      ],
    }),
    binaryFields: [["recipients.1.message.header.dh", 32]],
    requiredFields: ["senderDeviceId", "recipients", "recipients.0.deviceId", "recipients.0.message", "recipients.1.message.ciphertext"],
  },
  {
    name: "attachment header",
    maxJsonBytes: 1024,
    parse: parseAttachmentHeader,
    valid: encodeAttachmentHeader({ chunkSize: 65536, noncePrefix: bytes(7) }),
    binaryFields: [["noncePrefix", 7]],
    requiredFields: ["chunkSize", "noncePrefix"],
  },
  {
    name: "key backup blob",
    maxJsonBytes: MAX_BACKUP_JSON_BYTES,
    parse: parseKeyBackupBlob,
    valid: encodeKeyBackupBlob({ version: 3, salt: bytes(32), nonce: bytes(24), ciphertext: bytes(100) }),
    binaryFields: [["salt", 32], ["nonce", 24]],
    requiredFields: ["version", "salt", "nonce", "ciphertext"],
  },
];

describe("wire formats", () => {
  for (const format of formats) {
    describe(format.name, () => {
      test("round-trips from an object and from JSON text", () => {
        expect(format.parse(format.valid)).toEqual(format.parse(JSON.stringify(format.valid)));
        expect(codeOf(() => format.parse(JSON.stringify(format.valid)))).toBeUndefined();
      });
      test("rejects a wrong or missing version", () => {
        expect(codeOf(() => format.parse(withField(format.valid, "v", 2)))).toBe("UNSUPPORTED_VERSION");
        expect(codeOf(() => format.parse(withField(format.valid, "v", "1")))).toBe("UNSUPPORTED_VERSION");
        expect(codeOf(() => format.parse(withField(format.valid, "v", undefined)))).toBe("MISSING_FIELD");
      });
      test("rejects wrong lengths and bad base64url in every binary field", () => {
        for (const [field, length] of format.binaryFields) {
          expect(codeOf(() => format.parse(withField(format.valid, field, b64(length - 1))))).toBe("INVALID_LENGTH");
          expect(codeOf(() => format.parse(withField(format.valid, field, b64(length + 1))))).toBe("INVALID_LENGTH");
          expect(codeOf(() => format.parse(withField(format.valid, field, b64(length * 4))))).toBe("INVALID_LENGTH");
          const good = encodeBase64url(bytes(length));
          expect(codeOf(() => format.parse(withField(format.valid, field, `${good.slice(0, -2)}+/`)))).toBe("INVALID_BASE64URL");
          expect(codeOf(() => format.parse(withField(format.valid, field, `${good.slice(0, -1)}=`)))).toBe("INVALID_BASE64URL");
          expect(codeOf(() => format.parse(withField(format.valid, field, 12345)))).toBe("INVALID_FIELD_TYPE");
        }
      });
      test("rejects missing fields and unknown fields", () => {
        for (const field of format.requiredFields) {
          expect(codeOf(() => format.parse(withField(format.valid, field, undefined)))).toBe("MISSING_FIELD");
        }
        expect(codeOf(() => format.parse(withField(format.valid, "extra", "x")))).toBe("UNEXPECTED_FIELD");
      });
      test("rejects oversized input, malformed JSON and non-objects", () => {
        expect(codeOf(() => format.parse(" ".repeat(format.maxJsonBytes + 1)))).toBe("OVERSIZED");
        expect(codeOf(() => format.parse("{not json"))).toBe("MALFORMED_JSON");
        expect(codeOf(() => format.parse("[]"))).toBe("NOT_AN_OBJECT");
        expect(codeOf(() => format.parse(null))).toBe("NOT_AN_OBJECT");
        expect(codeOf(() => format.parse(new TextEncoder().encode(JSON.stringify(format.valid))))).toBeUndefined();
        expect(codeOf(() => format.parse(Uint8Array.of(0xff, 0xfe)))).toBe("MALFORMED_JSON");
      });
    });
  }

  test("integer fields are range-checked", () => {
    expect(codeOf(() => parseRatchetMessage(withField(ratchetMessage, "header.n", -1)))).toBe("OUT_OF_RANGE");
    expect(codeOf(() => parseRatchetMessage(withField(ratchetMessage, "header.n", 2 ** 31)))).toBe("OUT_OF_RANGE");
    expect(codeOf(() => parseRatchetMessage(withField(ratchetMessage, "header.pn", 1.5)))).toBe("INVALID_FIELD_TYPE");
    expect(codeOf(() => parseRatchetMessage(withField(ratchetMessage, "x3dh.signedPrekeyId", 2 ** 32)))).toBe("OUT_OF_RANGE");
    const header = encodeAttachmentHeader({ chunkSize: 65536, noncePrefix: bytes(7) });
    expect(codeOf(() => parseAttachmentHeader(withField(header, "chunkSize", 100)))).toBe("OUT_OF_RANGE");
    expect(codeOf(() => parseAttachmentHeader(withField(header, "chunkSize", 64 * 1024 * 1024)))).toBe("OUT_OF_RANGE");
    const blob = encodeKeyBackupBlob({ version: 1, salt: bytes(32), nonce: bytes(24), ciphertext: bytes(16) });
    expect(codeOf(() => parseKeyBackupBlob(withField(blob, "version", 0)))).toBe("OUT_OF_RANGE");
  });

  test("ids are validated, lists are bounded and duplicates refused", () => {
    expect(codeOf(() => parseDevicePublicBundle(withField(deviceBundle, "deviceId", "has space")))).toBe("INVALID_ID");
    expect(codeOf(() => parseDevicePublicBundle(withField(deviceBundle, "deviceId", "x".repeat(65))))).toBe("INVALID_ID");
    const prekeys = (deviceBundle["oneTimePrekeys"] as Json[]).slice(0, 2);
    expect(codeOf(() => parseDevicePublicBundle(withField(deviceBundle, "oneTimePrekeys", [prekeys[0], { ...prekeys[1], id: prekeys[0]!["id"] }])))).toBe("DUPLICATE_ID");
    const many = Array.from({ length: 201 }, (_, i) => ({ id: i, publicKey: b64(32) }));
    expect(codeOf(() => parseDevicePublicBundle(withField(deviceBundle, "oneTimePrekeys", many)))).toBe("INVALID_LENGTH");
    const envelope = formats.find((f) => f.name === "pairwise envelope")!.valid;
    const recipients = envelope["recipients"] as Json[];
    expect(codeOf(() => parsePairwiseEnvelope(withField(envelope, "recipients", [recipients[0], recipients[0]])))).toBe("DUPLICATE_ID");
    expect(codeOf(() => parsePairwiseEnvelope(withField(envelope, "recipients", [])))).toBe("INVALID_LENGTH");
    expect(codeOf(() => parseSenderKeyMessage(withField(formats[4]!.valid, "ciphertext", b64(15))))).toBe("INVALID_LENGTH");
    expect(codeOf(() => parseSenderKeyMessage(withField(formats[4]!.valid, "ciphertext", b64(64 * 1024 + 17))))).toBe("INVALID_LENGTH");
  });

  test("the server-side signed prekey check accepts a real bundle and refuses a forged one", () => {
    const parsed = parseDevicePublicBundle(JSON.stringify(deviceBundle));
    expect(() => validateSignedPrekeySignature(parsed)).not.toThrow();
    parsed.signedPrekey.signature[0]! ^= 1;
    expect(codeOf(() => validateSignedPrekeySignature(parsed))).toBe("INVALID_SIGNATURE");
  });

  test("prekey bundle list: one bundle per device, unique devices, bounded", () => {
    const one = formats[1]!.valid;
    const bundle = parsePrekeyBundle(one);
    const list = encodePrekeyBundleList([bundle, { ...bundle, deviceId: "alice-laptop" }]);
    expect(parsePrekeyBundleList(JSON.stringify(list)).map((b) => b.deviceId)).toEqual(["alice-phone", "alice-laptop"]);
    expect(codeOf(() => parsePrekeyBundleList(encodePrekeyBundleList([bundle, bundle])))).toBe("DUPLICATE_ID");
    const many = Array.from({ length: 33 }, (_, i) => ({ ...bundle, deviceId: `d${i}` }));
    expect(codeOf(() => parsePrekeyBundleList(encodePrekeyBundleList(many)))).toBe("INVALID_LENGTH");
    expect(codeOf(() => parsePrekeyBundleList(withField(list, "bundles.1.signingKey", b64(31))))).toBe("INVALID_LENGTH");
    expect(codeOf(() => parsePrekeyBundleList(withField(list, "v", 0)))).toBe("UNSUPPORTED_VERSION");
    expect(codeOf(() => parsePrekeyBundleList(withField(list, "bundles", undefined)))).toBe("MISSING_FIELD");
    // Bundles without a one-time prekey (pool exhausted) are valid.
    expect(parsePrekeyBundleList(encodePrekeyBundleList([{ ...bundle, oneTimePrekey: undefined }]))[0]!.oneTimePrekey).toBeUndefined();
  });

  test("error carries the field path", () => {
    try {
      parseDevicePublicBundle(withField(deviceBundle, "signedPrekey.signature", b64(63)));
      throw new Error("should have thrown");
    } catch (error) {
      expect(error).toBeInstanceOf(WireFormatError);
      expect((error as WireFormatError).field).toBe("signedPrekey.signature");
    }
  });
});

describe("base64url", () => {
  test("round-trips random lengths and is canonical", () => {
    const random = createSeededRandom(7);
    for (let i = 0; i < 300; i++) {
      const data = Uint8Array.from({ length: i % 70 }, () => Math.floor(random() * 256));
      const text = encodeBase64url(data);
      expect(text).toBe(Buffer.from(data).toString("base64url"));
      expect(decodeBase64url(text)).toEqual(data);
    }
    // "AB" decodes to one byte only if the unused bits are zero ("AA"); "AB" is a second spelling.
    expect(decodeBase64url("AA")).toEqual(Uint8Array.of(0));
    expect(codeOf(() => decodeBase64url("AB"))).toBe("INVALID_BASE64URL");
    expect(codeOf(() => decodeBase64url("A"))).toBe("INVALID_BASE64URL");
    expect(codeOf(() => decodeBase64url("AA=="))).toBe("INVALID_BASE64URL");
    expect(codeOf(() => decodeBase64url("A A"))).toBe("INVALID_BASE64URL");
    expect(codeOf(() => decodeBase64url("é"))).toBe("INVALID_BASE64URL");
  });
});
