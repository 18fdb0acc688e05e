// Known-answer tests for every primitive the library relies on, through the library's own call
// sites (primitives.ts, attachments.ts). Vectors copied from the RFCs / drafts / GCM spec and
// cross-checked against OpenSSL (node:crypto) and pyca/cryptography while writing them.

import { describe, expect, test } from "bun:test";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import {
  computeDh,
  computeHmacSha256,
  computeSha512,
  deriveHkdf,
  openXChaCha,
  sealXChaCha,
  signBytes,
  verifySignature,
} from "../../../src/client/e2ee/primitives.ts";
import { decryptChunkWithAesGcm, encryptChunkWithAesGcm } from "../../../src/client/e2ee/attachments.ts";
import { bytesToHex, hexToBytes } from "./test-helpers.ts";

const seq = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);
const SUNSCREEN = new TextEncoder().encode(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
);

describe("X25519 (RFC 7748)", () => {
  test("§5.2 test vectors 1 and 2", () => {
    expect(
      bytesToHex(
        computeDh(
          hexToBytes("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
          hexToBytes("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
        ),
      ),
    ).toBe("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    expect(
      bytesToHex(
        computeDh(
          hexToBytes("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
          hexToBytes("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
        ),
      ),
    ).toBe("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
  });

  test("§5.2 iterated: 1 and 1000 iterations", () => {
    let k = hexToBytes("0900000000000000000000000000000000000000000000000000000000000000");
    let u = k;
    for (let i = 1; i <= 1000; i++) {
      const next = computeDh(k, u);
      u = k;
      k = next;
      if (i === 1) expect(bytesToHex(k)).toBe("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
    expect(bytesToHex(k)).toBe("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
  });

  test("§6.1 Diffie-Hellman", () => {
    const alicePrivate = hexToBytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const bobPrivate = hexToBytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    expect(bytesToHex(x25519.getPublicKey(alicePrivate))).toBe("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    expect(bytesToHex(x25519.getPublicKey(bobPrivate))).toBe("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    expect(bytesToHex(computeDh(alicePrivate, hexToBytes("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")))).toBe(shared);
    expect(bytesToHex(computeDh(bobPrivate, hexToBytes("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")))).toBe(shared);
  });

  test("an all-zero (low-order) peer key is refused", () => {
    expect(() => computeDh(hexToBytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), new Uint8Array(32))).toThrow();
  });
});

describe("Ed25519 (RFC 8032 §7.1)", () => {
  const vectors = [
    {
      name: "TEST 1",
      secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      message: "",
      signature:
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    {
      name: "TEST 2",
      secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
      message: "72",
      signature:
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    {
      name: "TEST 3",
      secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
      message: "af82",
      signature:
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
  ];
  for (const v of vectors) {
    test(v.name, () => {
      const secret = hexToBytes(v.secret);
      expect(bytesToHex(ed25519.getPublicKey(secret))).toBe(v.public);
      expect(bytesToHex(signBytes(secret, hexToBytes(v.message)))).toBe(v.signature);
      expect(verifySignature(hexToBytes(v.public), hexToBytes(v.message), hexToBytes(v.signature))).toBe(true);
      const flipped = hexToBytes(v.signature);
      flipped[5]! ^= 1;
      expect(verifySignature(hexToBytes(v.public), hexToBytes(v.message), flipped)).toBe(false);
    });
  }
});

describe("HKDF-SHA256 (RFC 5869 appendix A)", () => {
  test("test case 1", () => {
    const okm = deriveHkdf(new Uint8Array(22).fill(0x0b), hexToBytes("000102030405060708090a0b0c"), hexToBytes("f0f1f2f3f4f5f6f7f8f9"), 42);
    expect(bytesToHex(okm)).toBe("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  });
  test("test case 2 (long inputs)", () => {
    const okm = deriveHkdf(seq(0x00, 0x4f), seq(0x60, 0xaf), seq(0xb0, 0xff), 82);
    expect(bytesToHex(okm)).toBe(
      "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
    );
  });
  test("test case 3 (empty salt and info)", () => {
    const okm = deriveHkdf(new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0), 42);
    expect(bytesToHex(okm)).toBe("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  });
});

describe("HMAC-SHA256 and SHA-512", () => {
  test("RFC 4231 test case 2", () => {
    const mac = computeHmacSha256(new TextEncoder().encode("Jefe"), new TextEncoder().encode("what do ya want for nothing?"));
    expect(bytesToHex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });
  test('SHA-512("abc") (FIPS 180-2)', () => {
    expect(bytesToHex(computeSha512(new TextEncoder().encode("abc")))).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
  });
});

describe("ChaCha20-Poly1305 family", () => {
  test("RFC 8439 §2.8.2 AEAD (the core under XChaCha20-Poly1305)", () => {
    const key = seq(0x80, 0x9f);
    const sealed = chacha20poly1305(key, hexToBytes("070000004041424344454647"), hexToBytes("50515253c0c1c2c3c4c5c6c7")).encrypt(SUNSCREEN);
    expect(bytesToHex(sealed)).toBe(
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116" +
        "1ae10b594f09e26a7e902ecbd0600691",
    );
  });
  test("XChaCha20-Poly1305 draft-irtf-cfrg-xchacha A.3.1 through sealXChaCha/openXChaCha", () => {
    const key = seq(0x80, 0x9f);
    const nonce = hexToBytes("404142434445464748494a4b4c4d4e4f5051525354555657");
    const aad = hexToBytes("50515253c0c1c2c3c4c5c6c7");
    const expected =
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e" +
      "c0875924c1c7987947deafd8780acf49";
    expect(bytesToHex(sealXChaCha(key, nonce, SUNSCREEN, aad))).toBe(expected);
    expect(openXChaCha(key, nonce, hexToBytes(expected), aad)).toEqual(SUNSCREEN);
    expect(() => openXChaCha(key, nonce, hexToBytes(expected), new Uint8Array(0))).toThrow("authentication failed");
  });
});

describe("AES-256-GCM through WebCrypto (attachment chunk path)", () => {
  async function importKey(hex: string): Promise<CryptoKey> {
    return crypto.subtle.importKey("raw", hexToBytes(hex) as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]);
  }
  test("GCM spec test case 14 (zero key, one zero block)", async () => {
    const key = await importKey("00".repeat(32));
    const out = await encryptChunkWithAesGcm(key, new Uint8Array(12), new Uint8Array(0), new Uint8Array(16));
    expect(bytesToHex(out)).toBe("cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919");
  });
  test("GCM spec test case 16 (with associated data)", async () => {
    const key = await importKey("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const iv = hexToBytes("cafebabefacedbaddecaf888");
    const aad = hexToBytes("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const plaintext = hexToBytes(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    const expected =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
      "76fc6ece0f4e1768cddf8853bb2d551b";
    expect(bytesToHex(await encryptChunkWithAesGcm(key, iv, aad, plaintext))).toBe(expected);
    expect(await decryptChunkWithAesGcm(key, iv, aad, hexToBytes(expected))).toEqual(plaintext);
    const tampered = hexToBytes(expected);
    tampered[0]! ^= 1;
    await expect(decryptChunkWithAesGcm(key, iv, aad, tampered)).rejects.toThrow("failed authentication");
  });
});
