import { randomBytes } from 'node:crypto';
import { CryptographicAlgorithm, CryptographicUsageMask, RNGAlgorithm, Tag, enumItem, int, struct } from '../kmip/index.js';

/**
 * One table of the symmetric algorithms the KMS can generate: KMIP Cryptographic Algorithm
 * (enum name, as the OASIS vectors spell it) + Cryptographic Length (bits) → how many bytes
 * of key material to generate, and which Cryptographic Usage Mask bits such a key may carry.
 *
 * Triple-DES and SKIPJACK exist for the OASIS SKFF vectors: the KMS generates and stores such
 * keys and never uses them for anything (it has no cryptographic operations on them).
 * Register accepts any algorithm and length as-is: this table governs generation only.
 */
export interface AlgorithmSpec {
  /** KMIP CryptographicAlgorithm enum name. */
  readonly algorithm: string;
  /** Allowed Cryptographic Length values, in bits, with the material size for each. */
  readonly lengths: ReadonlyMap<number, number>;
  /** Usage mask bits a key of this algorithm may carry (KMIP Cryptographic Usage Mask). */
  readonly allowedUsage: number;
  /** Used by the KMS itself for key wrapping (only AES). */
  readonly wrapping: boolean;
}

/** KMIP Cryptographic Usage Mask bits, from the KMIP library's tables. */
export const USAGE = CryptographicUsageMask;

const BLOCK_CIPHER_USAGE =
  USAGE.Encrypt |
  USAGE.Decrypt |
  USAGE.WrapKey |
  USAGE.UnwrapKey |
  USAGE.Export |
  USAGE.MACGenerate |
  USAGE.MACVerify |
  USAGE.DeriveKey |
  USAGE.GenerateCryptogram |
  USAGE.ValidateCryptogram |
  USAGE.TranslateEncrypt |
  USAGE.TranslateDecrypt |
  USAGE.TranslateWrap |
  USAGE.TranslateUnwrap |
  USAGE.Authenticate |
  USAGE.Unrestricted |
  USAGE.FPEEncrypt |
  USAGE.FPEDecrypt;

const MAC_USAGE = USAGE.MACGenerate | USAGE.MACVerify | USAGE.DeriveKey | USAGE.Export | USAGE.Authenticate | USAGE.Unrestricted;

const bits = (pairs: Array<[number, number]>): ReadonlyMap<number, number> => new Map(pairs);
const hmacLengths = bits([128, 160, 192, 224, 256, 384, 512].map((b) => [b, b / 8]));

export const ALGORITHMS: ReadonlyMap<string, AlgorithmSpec> = new Map(
  (
    [
      { algorithm: 'AES', lengths: bits([[128, 16], [192, 24], [256, 32]]), allowedUsage: BLOCK_CIPHER_USAGE, wrapping: true },
      // Two-key (112) and three-key (168) Triple-DES; the material keeps its parity bits (8 per 56).
      { algorithm: 'DES3', lengths: bits([[112, 16], [168, 24], [192, 24]]), allowedUsage: BLOCK_CIPHER_USAGE, wrapping: false },
      { algorithm: 'SKIPJACK', lengths: bits([[80, 10]]), allowedUsage: BLOCK_CIPHER_USAGE, wrapping: false },
      { algorithm: 'ChaCha20', lengths: bits([[256, 32]]), allowedUsage: BLOCK_CIPHER_USAGE, wrapping: false },
      { algorithm: 'HMAC_SHA1', lengths: hmacLengths, allowedUsage: MAC_USAGE, wrapping: false },
      { algorithm: 'HMAC_SHA256', lengths: hmacLengths, allowedUsage: MAC_USAGE, wrapping: false },
      { algorithm: 'HMAC_SHA384', lengths: hmacLengths, allowedUsage: MAC_USAGE, wrapping: false },
      { algorithm: 'HMAC_SHA512', lengths: hmacLengths, allowedUsage: MAC_USAGE, wrapping: false },
    ] satisfies AlgorithmSpec[]
  ).map((a) => [a.algorithm, a]),
);

export type GenerateResult =
  | { readonly ok: true; readonly material: Buffer }
  | { readonly ok: false; readonly problem: 'algorithm' | 'length' | 'usage'; readonly message: string };

/** Generates key material for Create, after checking the algorithm, length and usage mask. */
export function generateSymmetricKey(algorithm: string, lengthBits: number, usageMask: number): GenerateResult {
  const spec = ALGORITHMS.get(algorithm);
  if (!spec) return { ok: false, problem: 'algorithm', message: `the KMS does not generate ${algorithm} keys` };
  const bytes = spec.lengths.get(lengthBits);
  if (bytes === undefined) {
    return { ok: false, problem: 'length', message: `${algorithm} keys are ${[...spec.lengths.keys()].join(', ')} bits long` };
  }
  if ((usageMask & ~spec.allowedUsage) !== 0) {
    return { ok: false, problem: 'usage', message: `the usage mask is not allowed for ${algorithm} keys` };
  }
  return { ok: true, material: randomBytes(bytes) };
}

/**
 * The generator behind every key the KMS makes: Node's randomBytes, i.e. OpenSSL's default
 * DRBG (CTR_DRBG with AES-256, NIST SP 800-90A). Reported as the Random Number Generator
 * attribute of created objects and by Query RNGs.
 */
export const RNG_PARAMETERS = struct(Tag.RandomNumberGenerator, [
  enumItem(Tag.RNGAlgorithm, RNGAlgorithm.DRBG),
  enumItem(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
  int(Tag.CryptographicLength, 256),
]);
