/**
 * KMIP enumerations and bit masks, KMIP 1.0–1.4 and 2.0–2.1 (data).
 *
 * Sources (facts, not code): OASIS KMIP Specification v1.0–v1.4 §9.1.3.2 and v2.0/v2.1 §11
 * ("Enumerations", "Bit Masks"), cross-checked against PyKMIP 0.10 (Debian python3-pykmip,
 * kmip/core/enums.py), which also records the version that introduced each value; KMIP 2.1 additions
 * from the KMIP Specification v2.1 §11 tables. PKCS#11 Function
 * values: 1-based offsets in CK_FUNCTION_LIST_3_0 (OASIS PKCS#11 v3.0, pkcs11f.h); PKCS#11 Return Code
 * OK = CKR_OK = 0. Value names use the spelling of the OASIS XML profile test vectors.
 */
import { Tag, type TagName } from './tags.js';

export const AdjustmentType = Object.freeze({
  // KMIP 2.0
  Increment: 0x00000001,
  Decrement: 0x00000002,
  Negate: 0x00000003,
} as const);

export const AlternativeNameType = Object.freeze({
  // KMIP 1.2
  UninterpretedTextString: 0x00000001,
  URI: 0x00000002,
  ObjectSerialNumber: 0x00000003,
  EmailAddress: 0x00000004,
  DNSName: 0x00000005,
  X500DistinguishedName: 0x00000006,
  IPAddress: 0x00000007,
} as const);

export const AsynchronousIndicator = Object.freeze({
  // KMIP 2.0
  Mandatory: 0x00000001,
  Optional: 0x00000002,
  Prohibited: 0x00000003,
} as const);

export const AttestationType = Object.freeze({
  // KMIP 1.2
  TPMQuote: 0x00000001,
  TCGIntegrityReport: 0x00000002,
  SAMLAssertion: 0x00000003,
} as const);

export const BatchErrorContinuationOption = Object.freeze({
  // KMIP 1.0
  Continue: 0x00000001,
  Stop: 0x00000002,
  Undo: 0x00000003,
} as const);

export const BlockCipherMode = Object.freeze({
  // KMIP 1.0
  CBC: 0x00000001,
  ECB: 0x00000002,
  PCBC: 0x00000003,
  CFB: 0x00000004,
  OFB: 0x00000005,
  CTR: 0x00000006,
  CMAC: 0x00000007,
  CCM: 0x00000008,
  GCM: 0x00000009,
  CBC_MAC: 0x0000000a,
  XTS: 0x0000000b,
  AESKeyWrapPadding: 0x0000000c,
  NISTKeyWrap: 0x0000000d,
  X9_102AESKW: 0x0000000e,
  X9_102TDKW: 0x0000000f,
  X9_102AKW1: 0x00000010,
  X9_102AKW2: 0x00000011,
  // KMIP 1.4
  AEAD: 0x00000012,
} as const);

export const CancellationResult = Object.freeze({
  // KMIP 1.0
  Canceled: 0x00000001,
  UnableToCancel: 0x00000002,
  Completed: 0x00000003,
  Failed: 0x00000004,
  Unavailable: 0x00000005,
} as const);

export const CertificateRequestType = Object.freeze({
  // KMIP 1.0
  CRMF: 0x00000001,
  PKCS10: 0x00000002,
  PEM: 0x00000003,
  PGP: 0x00000004, // (Reserved) in KMIP 2.0
} as const);

export const CertificateType = Object.freeze({
  // KMIP 1.0
  X_509: 0x00000001,
  PGP: 0x00000002,
} as const);

export const ClientRegistrationMethod = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  ServerPreGenerated: 0x00000002,
  ServerOnDemand: 0x00000003,
  ClientGenerated: 0x00000004,
  ClientRegistered: 0x00000005,
} as const);

export const CredentialType = Object.freeze({
  // KMIP 1.0
  UsernameAndPassword: 0x00000001,
  // KMIP 1.1
  Device: 0x00000002,
  // KMIP 1.2
  Attestation: 0x00000003,
  // KMIP 2.0
  OneTimePassword: 0x00000004,
  HashedPassword: 0x00000005,
  Ticket: 0x00000006,
} as const);

export const CryptographicAlgorithm = Object.freeze({
  // KMIP 1.0
  DES: 0x00000001,
  DES3: 0x00000002,
  AES: 0x00000003,
  RSA: 0x00000004,
  DSA: 0x00000005,
  ECDSA: 0x00000006,
  HMAC_SHA1: 0x00000007,
  HMAC_SHA224: 0x00000008,
  HMAC_SHA256: 0x00000009,
  HMAC_SHA384: 0x0000000a,
  HMAC_SHA512: 0x0000000b,
  HMAC_MD5: 0x0000000c,
  DH: 0x0000000d,
  ECDH: 0x0000000e,
  ECMQV: 0x0000000f,
  Blowfish: 0x00000010,
  Camellia: 0x00000011,
  CAST5: 0x00000012,
  IDEA: 0x00000013,
  MARS: 0x00000014,
  RC2: 0x00000015,
  RC4: 0x00000016,
  RC5: 0x00000017,
  SKIPJACK: 0x00000018,
  Twofish: 0x00000019,
  // KMIP 1.2
  EC: 0x0000001a,
  // KMIP 1.3
  OneTimePad: 0x0000001b,
  // KMIP 1.4
  ChaCha20: 0x0000001c,
  Poly1305: 0x0000001d,
  ChaCha20Poly1305: 0x0000001e,
  SHA3_224: 0x0000001f,
  SHA3_256: 0x00000020,
  SHA3_384: 0x00000021,
  SHA3_512: 0x00000022,
  HMAC_SHA3_224: 0x00000023,
  HMAC_SHA3_256: 0x00000024,
  HMAC_SHA3_384: 0x00000025,
  HMAC_SHA3_512: 0x00000026,
  SHAKE_128: 0x00000027,
  SHAKE_256: 0x00000028,
  // KMIP 2.0
  ARIA: 0x00000029,
  SEED: 0x0000002a,
  SM2: 0x0000002b,
  SM3: 0x0000002c,
  SM4: 0x0000002d,
  GOSTR34_10_2012: 0x0000002e,
  GOSTR34_11_2012: 0x0000002f,
  GOSTR34_13_2015: 0x00000030,
  GOST28147_89: 0x00000031,
  XMSS: 0x00000032,
  SPHINCS_256: 0x00000033,
  McEliece: 0x00000034,
  McEliece_6960119: 0x00000035,
  McEliece_8192128: 0x00000036,
  Ed25519: 0x00000037,
  Ed448: 0x00000038,
} as const);

export const CryptographicUsageMask = Object.freeze({
  // KMIP 1.0
  Sign: 0x00000001,
  Verify: 0x00000002,
  Encrypt: 0x00000004,
  Decrypt: 0x00000008,
  WrapKey: 0x00000010,
  UnwrapKey: 0x00000020,
  Export: 0x00000040,
  MACGenerate: 0x00000080,
  MACVerify: 0x00000100,
  DeriveKey: 0x00000200,
  ContentCommitment: 0x00000400,
  KeyAgreement: 0x00000800,
  CertificateSign: 0x00001000,
  CRLSign: 0x00002000,
  GenerateCryptogram: 0x00004000, // (Reserved) in KMIP 2.0
  ValidateCryptogram: 0x00008000, // (Reserved) in KMIP 2.0
  TranslateEncrypt: 0x00010000, // (Reserved) in KMIP 2.0
  TranslateDecrypt: 0x00020000, // (Reserved) in KMIP 2.0
  TranslateWrap: 0x00040000, // (Reserved) in KMIP 2.0
  TranslateUnwrap: 0x00080000, // (Reserved) in KMIP 2.0
  // KMIP 2.0
  Authenticate: 0x00100000,
  Unrestricted: 0x00200000,
  FPEEncrypt: 0x00400000,
  FPEDecrypt: 0x00800000,
} as const);

export const Data = Object.freeze({
  // KMIP 2.0
  Decrypt: 0x00000001,
  Encrypt: 0x00000002,
  Hash: 0x00000003,
  MAC_MACData: 0x00000004,
  RNGRetrieve: 0x00000005,
  SignSignatureData: 0x00000006,
  SignatureVerify: 0x00000007,
} as const);

export const DerivationMethod = Object.freeze({
  // KMIP 1.0
  PBKDF2: 0x00000001,
  HASH: 0x00000002,
  HMAC: 0x00000003,
  ENCRYPT: 0x00000004,
  NIST800_108_C: 0x00000005,
  NIST800_108_F: 0x00000006,
  NIST800_108_DPI: 0x00000007,
  // KMIP 1.4
  AsymmetricKey: 0x00000008,
  // KMIP 2.0
  AWSSignatureVersion4: 0x00000009,
  HKDF: 0x0000000a,
} as const);

export const DestroyAction = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  KeyMaterialDeleted: 0x00000002,
  KeyMaterialShredded: 0x00000003,
  MetaDataDeleted: 0x00000004,
  MetaDataShredded: 0x00000005,
  Deleted: 0x00000006,
  Shredded: 0x00000007,
} as const);

export const DigitalSignatureAlgorithm = Object.freeze({
  // KMIP 1.1
  MD2WithRSAEncryption: 0x00000001,
  MD5WithRSAEncryption: 0x00000002,
  SHA_1WithRSAEncryption: 0x00000003,
  SHA_224WithRSAEncryption: 0x00000004,
  SHA_256WithRSAEncryption: 0x00000005,
  SHA_384WithRSAEncryption: 0x00000006,
  SHA_512WithRSAEncryption: 0x00000007,
  RSASSA_PSS: 0x00000008,
  DSAWithSHA_1: 0x00000009,
  DSAWithSHA224: 0x0000000a,
  DSAWithSHA256: 0x0000000b,
  ECDSAWithSHA_1: 0x0000000c,
  ECDSAWithSHA224: 0x0000000d,
  ECDSAWithSHA256: 0x0000000e,
  ECDSAWithSHA384: 0x0000000f,
  ECDSAWithSHA512: 0x00000010,
  // KMIP 1.4
  SHA3_256WithRSAEncryption: 0x00000011,
  SHA3_384WithRSAEncryption: 0x00000012,
  SHA3_512WithRSAEncryption: 0x00000013,
} as const);

export const DRBGAlgorithm = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  Dual_EC: 0x00000002,
  Hash: 0x00000003,
  HMAC: 0x00000004,
  CTR: 0x00000005,
} as const);

export const EncodingOption = Object.freeze({
  // KMIP 1.1
  NoEncoding: 0x00000001,
  TTLVEncoding: 0x00000002,
} as const);

export const EndpointRole = Object.freeze({
  // KMIP 1.0
  Client: 0x00000001,
  Server: 0x00000002,
} as const);

export const FIPS186Variation = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  GPXOriginal: 0x00000002,
  GPXChangeNotice: 0x00000003,
  XOriginal: 0x00000004,
  XChangeNotice: 0x00000005,
  KOriginal: 0x00000006,
  KChangeNotice: 0x00000007,
} as const);

export const HashingAlgorithm = Object.freeze({
  // KMIP 1.0
  MD2: 0x00000001,
  MD4: 0x00000002,
  MD5: 0x00000003,
  SHA_1: 0x00000004,
  SHA_224: 0x00000005,
  SHA_256: 0x00000006,
  SHA_384: 0x00000007,
  SHA_512: 0x00000008,
  RIPEMD_160: 0x00000009,
  Tiger: 0x0000000a,
  Whirlpool: 0x0000000b,
  // KMIP 1.2
  SHA_512_224: 0x0000000c,
  SHA_512_256: 0x0000000d,
  // KMIP 1.4
  SHA3_224: 0x0000000e,
  SHA3_256: 0x0000000f,
  SHA3_384: 0x00000010,
  SHA3_512: 0x00000011,
} as const);

export const InteropFunction = Object.freeze({
  // KMIP 2.0
  Begin: 0x00000001,
  End: 0x00000002,
  Reset: 0x00000003,
} as const);

/** The KMIP 2.0 Item Type enumeration (named so as not to clash with the ItemType type of ttlv-types.ts). */
export const ItemTypeEnum = Object.freeze({
  // KMIP 2.0
  Structure: 0x00000001,
  Integer: 0x00000002,
  LongInteger: 0x00000003,
  BigInteger: 0x00000004,
  Enumeration: 0x00000005,
  Boolean: 0x00000006,
  TextString: 0x00000007,
  ByteString: 0x00000008,
  DateTime: 0x00000009,
  Interval: 0x0000000a,
  DateTimeExtended: 0x0000000b,
} as const);

export const KeyCompressionType = Object.freeze({
  // KMIP 1.0
  ECPublicKeyTypeUncompressed: 0x00000001,
  ECPublicKeyTypeX9_62CompressedPrime: 0x00000002,
  ECPublicKeyTypeX9_62CompressedChar2: 0x00000003,
  ECPublicKeyTypeX9_62Hybrid: 0x00000004,
} as const);

export const KeyFormatType = Object.freeze({
  // KMIP 1.0
  Raw: 0x00000001,
  Opaque: 0x00000002,
  PKCS_1: 0x00000003,
  PKCS_8: 0x00000004,
  X_509: 0x00000005,
  ECPrivateKey: 0x00000006,
  TransparentSymmetricKey: 0x00000007,
  TransparentDSAPrivateKey: 0x00000008,
  TransparentDSAPublicKey: 0x00000009,
  TransparentRSAPrivateKey: 0x0000000a,
  TransparentRSAPublicKey: 0x0000000b,
  TransparentDHPrivateKey: 0x0000000c,
  TransparentDHPublicKey: 0x0000000d,
  TransparentECDSAPrivateKey: 0x0000000e, // (Reserved) in KMIP 2.0
  TransparentECDSAPublicKey: 0x0000000f, // (Reserved) in KMIP 2.0
  TransparentECDHPrivateKey: 0x00000010, // (Reserved) in KMIP 2.0
  TransparentECDHPublicKey: 0x00000011, // (Reserved) in KMIP 2.0
  TransparentECMQVPrivateKey: 0x00000012, // (Reserved) in KMIP 2.0
  TransparentECMQVPublicKey: 0x00000013, // (Reserved) in KMIP 2.0
  // KMIP 1.3
  TransparentECPrivateKey: 0x00000014,
  TransparentECPublicKey: 0x00000015,
  // KMIP 1.4
  PKCS_12: 0x00000016,
  // KMIP 2.1
  PKCS_10: 0x00000017,
} as const);

export const KeyRoleType = Object.freeze({
  // KMIP 1.0
  BDK: 0x00000001,
  CVK: 0x00000002,
  DEK: 0x00000003,
  MKAC: 0x00000004,
  MKSMC: 0x00000005,
  MKSMI: 0x00000006,
  MKDAC: 0x00000007,
  MKDN: 0x00000008,
  MKCP: 0x00000009,
  MKOTH: 0x0000000a,
  KEK: 0x0000000b,
  MAC16609: 0x0000000c,
  MAC97971: 0x0000000d,
  MAC97972: 0x0000000e,
  MAC97973: 0x0000000f,
  MAC97974: 0x00000010,
  MAC97975: 0x00000011,
  ZPK: 0x00000012,
  PVKIBM: 0x00000013,
  PVKPVV: 0x00000014,
  PVKOTH: 0x00000015,
  // KMIP 1.4
  DUKPT: 0x00000016,
  IV: 0x00000017,
  TRKBK: 0x00000018,
} as const);

export const KeyValueLocationType = Object.freeze({
  // KMIP 1.2
  UninterpretedTextString: 0x00000001,
  URI: 0x00000002,
} as const);

export const KeyWrapType = Object.freeze({
  // KMIP 1.0
  NotWrapped: 0x00000001,
  AsRegistered: 0x00000002,
} as const);

export const LinkType = Object.freeze({
  // KMIP 1.0
  CertificateLink: 0x00000101,
  PublicKeyLink: 0x00000102,
  PrivateKeyLink: 0x00000103,
  DerivationBaseObjectLink: 0x00000104,
  DerivedKeyLink: 0x00000105,
  ReplacementObjectLink: 0x00000106,
  ReplacedObjectLink: 0x00000107,
  // KMIP 1.2
  ParentLink: 0x00000108,
  ChildLink: 0x00000109,
  PreviousLink: 0x0000010a,
  NextLink: 0x0000010b,
  // KMIP 1.4
  PKCS_12CertificateLink: 0x0000010c,
  PKCS_12PasswordLink: 0x0000010d,
  // KMIP 2.0
  WrappingKeyLink: 0x0000010e,
} as const);

export const MaskGenerator = Object.freeze({
  // KMIP 1.4
  MGF1: 0x00000001,
} as const);

export const NameType = Object.freeze({
  // KMIP 1.0
  UninterpretedTextString: 0x00000001,
  URI: 0x00000002,
} as const);

export const NISTKeyType = Object.freeze({
  // KMIP 2.0
  PrivateSignatureKey: 0x00000001,
  PublicSignatureVerificationKey: 0x00000002,
  SymmetricAuthenticationKey: 0x00000003,
  PrivateAuthenticationKey: 0x00000004,
  PublicAuthenticationKey: 0x00000005,
  SymmetricDataEncryptionKey: 0x00000006,
  SymmetricKeyWrappingKey: 0x00000007,
  SymmetricRandomNumberGenerationKey: 0x00000008,
  SymmetricMasterKey: 0x00000009,
  PrivateKeyTransportKey: 0x0000000a,
  PublicKeyTransportKey: 0x0000000b,
  SymmetricKeyAgreementKey: 0x0000000c,
  PrivateStaticKeyAgreementKey: 0x0000000d,
  PublicStaticKeyAgreementKey: 0x0000000e,
  PrivateEphemeralKeyAgreementKey: 0x0000000f,
  PublicEphemeralKeyAgreementKey: 0x00000010,
  SymmetricAuthorizationKey: 0x00000011,
  PrivateAuthorizationKey: 0x00000012,
  PublicAuthorizationKey: 0x00000013,
} as const);

export const ObjectGroupMember = Object.freeze({
  // KMIP 1.1
  GroupMemberFresh: 0x00000001,
  GroupMemberDefault: 0x00000002,
} as const);

export const ObjectType = Object.freeze({
  // KMIP 1.0
  Certificate: 0x00000001,
  SymmetricKey: 0x00000002,
  PublicKey: 0x00000003,
  PrivateKey: 0x00000004,
  SplitKey: 0x00000005,
  Template: 0x00000006, // (Reserved) in KMIP 2.0
  SecretData: 0x00000007,
  OpaqueObject: 0x00000008,
  // KMIP 1.2
  PGPKey: 0x00000009,
  // KMIP 2.0
  CertificateRequest: 0x0000000a,
} as const);

export const OpaqueDataType = Object.freeze({
  // KMIP 1.0
  None: 0x80000000,
} as const);

export const Operation = Object.freeze({
  // KMIP 1.0
  Create: 0x00000001,
  CreateKeyPair: 0x00000002,
  Register: 0x00000003,
  ReKey: 0x00000004,
  DeriveKey: 0x00000005,
  Certify: 0x00000006,
  ReCertify: 0x00000007,
  Locate: 0x00000008,
  Check: 0x00000009,
  Get: 0x0000000a,
  GetAttributes: 0x0000000b,
  GetAttributeList: 0x0000000c,
  AddAttribute: 0x0000000d,
  ModifyAttribute: 0x0000000e,
  DeleteAttribute: 0x0000000f,
  ObtainLease: 0x00000010,
  GetUsageAllocation: 0x00000011,
  Activate: 0x00000012,
  Revoke: 0x00000013,
  Destroy: 0x00000014,
  Archive: 0x00000015,
  Recover: 0x00000016,
  Validate: 0x00000017,
  Query: 0x00000018,
  Cancel: 0x00000019,
  Poll: 0x0000001a,
  Notify: 0x0000001b,
  Put: 0x0000001c,
  // KMIP 1.1
  ReKeyKeyPair: 0x0000001d,
  DiscoverVersions: 0x0000001e,
  // KMIP 1.2
  Encrypt: 0x0000001f,
  Decrypt: 0x00000020,
  Sign: 0x00000021,
  SignatureVerify: 0x00000022,
  MAC: 0x00000023,
  MACVerify: 0x00000024,
  RNGRetrieve: 0x00000025,
  RNGSeed: 0x00000026,
  Hash: 0x00000027,
  CreateSplitKey: 0x00000028,
  JoinSplitKey: 0x00000029,
  // KMIP 1.4
  Import: 0x0000002a,
  Export: 0x0000002b,
  // KMIP 2.0
  Log: 0x0000002c,
  Login: 0x0000002d,
  Logout: 0x0000002e,
  DelegatedLogin: 0x0000002f,
  AdjustAttribute: 0x00000030,
  SetAttribute: 0x00000031,
  SetEndpointRole: 0x00000032,
  PKCS_11: 0x00000033,
  Interop: 0x00000034,
  ReProvision: 0x00000035,
  // KMIP 2.1
  SetDefaults: 0x00000036,
  SetConstraints: 0x00000037,
  GetConstraints: 0x00000038,
  QueryAsynchronousRequests: 0x00000039,
  Process: 0x0000003a,
  Ping: 0x0000003b,
} as const);

export const PaddingMethod = Object.freeze({
  // KMIP 1.0
  None: 0x00000001,
  OAEP: 0x00000002,
  PKCS5: 0x00000003,
  SSL3: 0x00000004,
  Zeros: 0x00000005,
  ANSIX9_23: 0x00000006,
  ISO_10126: 0x00000007,
  PKCS1v1_5: 0x00000008,
  X9_31: 0x00000009,
  PSS: 0x0000000a,
} as const);

export const PKCS_11Function = Object.freeze({
  // KMIP 2.0
  C_Initialize: 0x00000001,
  C_Finalize: 0x00000002,
  C_GetInfo: 0x00000003,
  C_GetFunctionList: 0x00000004,
} as const);

export const PKCS_11ReturnCode = Object.freeze({
  // KMIP 2.0
  OK: 0x00000000,
} as const);

export const ProfileName = Object.freeze({
  // KMIP 1.3
  BaselineServerBasicKMIPV1_2: 0x00000001,
  BaselineServerTLSV1_2KMIPV1_2: 0x00000002,
  BaselineClientBasicKMIPV1_2: 0x00000003,
  BaselineClientTLSV1_2KMIPV1_2: 0x00000004,
  CompleteServerBasicKMIPV1_2: 0x00000005,
  CompleteServerTLSV1_2KMIPV1_2: 0x00000006,
  TapeLibraryClientKMIPV1_0: 0x00000007,
  TapeLibraryClientKMIPV1_1: 0x00000008,
  TapeLibraryClientKMIPV1_2: 0x00000009,
  TapeLibraryServerKMIPV1_0: 0x0000000a,
  TapeLibraryServerKMIPV1_1: 0x0000000b,
  TapeLibraryServerKMIPV1_2: 0x0000000c,
  SymmetricKeyLifecycleClientKMIPV1_0: 0x0000000d,
  SymmetricKeyLifecycleClientKMIPV1_1: 0x0000000e,
  SymmetricKeyLifecycleClientKMIPV1_2: 0x0000000f,
  SymmetricKeyLifecycleServerKMIPV1_0: 0x00000010,
  SymmetricKeyLifecycleServerKMIPV1_1: 0x00000011,
  SymmetricKeyLifecycleServerKMIPV1_2: 0x00000012,
  AsymmetricKeyLifecycleClientKMIPV1_0: 0x00000013,
  AsymmetricKeyLifecycleClientKMIPV1_1: 0x00000014,
  AsymmetricKeyLifecycleClientKMIPV1_2: 0x00000015,
  AsymmetricKeyLifecycleServerKMIPV1_0: 0x00000016,
  AsymmetricKeyLifecycleServerKMIPV1_1: 0x00000017,
  AsymmetricKeyLifecycleServerKMIPV1_2: 0x00000018,
  BasicCryptographicClientKMIPV1_2: 0x00000019,
  BasicCryptographicServerKMIPV1_2: 0x0000001a,
  AdvancedCryptographicClientKMIPV1_2: 0x0000001b,
  AdvancedCryptographicServerKMIPV1_2: 0x0000001c,
  RNGCryptographicClientKMIPV1_2: 0x0000001d,
  RNGCryptographicServerKMIPV1_2: 0x0000001e,
  BasicSymmetricKeyFoundryClientKMIPV1_0: 0x0000001f,
  IntermediateSymmetricKeyFoundryClientKMIPV1_0: 0x00000020,
  AdvancedSymmetricKeyFoundryClientKMIPV1_0: 0x00000021,
  BasicSymmetricKeyFoundryClientKMIPV1_1: 0x00000022,
  IntermediateSymmetricKeyFoundryClientKMIPV1_1: 0x00000023,
  AdvancedSymmetricKeyFoundryClientKMIPV1_1: 0x00000024,
  BasicSymmetricKeyFoundryClientKMIPV1_2: 0x00000025,
  IntermediateSymmetricKeyFoundryClientKMIPV1_2: 0x00000026,
  AdvancedSymmetricKeyFoundryClientKMIPV1_2: 0x00000027,
  SymmetricKeyFoundryServerKMIPV1_0: 0x00000028,
  SymmetricKeyFoundryServerKMIPV1_1: 0x00000029,
  SymmetricKeyFoundryServerKMIPV1_2: 0x0000002a,
  OpaqueManagedObjectStoreClientKMIPV1_0: 0x0000002b,
  OpaqueManagedObjectStoreClientKMIPV1_1: 0x0000002c,
  OpaqueManagedObjectStoreClientKMIPV1_2: 0x0000002d,
  OpaqueManagedObjectStoreServerKMIPV1_0: 0x0000002e,
  OpaqueManagedObjectStoreServerKMIPV1_1: 0x0000002f,
  OpaqueManagedObjectStoreServerKMIPV1_2: 0x00000030,
  SUITE_BMinlos_128ClientKMIPV1_0: 0x00000031,
  SUITE_BMinlos_128ClientKMIPV1_1: 0x00000032,
  SUITE_BMinlos_128ClientKMIPV1_2: 0x00000033,
  SuiteBMinLOS_128ServerKMIPV1_0: 0x00000034,
  SuiteBMinLOS_128ServerKMIPV1_1: 0x00000035,
  SuiteBMinLOS_128ServerKMIPV1_2: 0x00000036,
  SUITE_BMinlos_192ClientKMIPV1_0: 0x00000037,
  SUITE_BMinlos_192ClientKMIPV1_1: 0x00000038,
  SUITE_BMinlos_192ClientKMIPV1_2: 0x00000039,
  SuiteBMinLOS_192ServerKMIPV1_0: 0x0000003a,
  SuiteBMinLOS_192ServerKMIPV1_1: 0x0000003b,
  SuiteBMinLOS_192ServerKMIPV1_2: 0x0000003c,
  StorageArrayWithSelfEncryptingDriveClientKMIPV1_0: 0x0000003d,
  StorageArrayWithSelfEncryptingDriveClientKMIPV1_1: 0x0000003e,
  StorageArrayWithSelfEncryptingDriveClientKMIPV1_2: 0x0000003f,
  StorageArrayWithSelfEncryptingDriveServerKMIPV1_0: 0x00000040,
  StorageArrayWithSelfEncryptingDriveServerKMIPV1_1: 0x00000041,
  StorageArrayWithSelfEncryptingDriveServerKMIPV1_2: 0x00000042,
  HTTPSClientKMIPV1_0: 0x00000043,
  HTTPSClientKMIPV1_1: 0x00000044,
  HTTPSClientKMIPV1_2: 0x00000045,
  HTTPSServerKMIPV1_0: 0x00000046,
  HTTPSServerKMIPV1_1: 0x00000047,
  HTTPSServerKMIPV1_2: 0x00000048,
  JSONClientKMIPV1_0: 0x00000049,
  JSONClientKMIPV1_1: 0x0000004a,
  JSONClientKMIPV1_2: 0x0000004b,
  JSONServerKMIPV1_0: 0x0000004c,
  JSONServerKMIPV1_1: 0x0000004d,
  JSONServerKMIPV1_2: 0x0000004e,
  XMLClientKMIPV1_0: 0x0000004f,
  XMLClientKMIPV1_1: 0x00000050,
  XMLClientKMIPV1_2: 0x00000051,
  XMLServerKMIPV1_0: 0x00000052,
  XMLServerKMIPV1_1: 0x00000053,
  XMLServerKMIPV1_2: 0x00000054,
  BaselineServerBasicKMIPV1_3: 0x00000055,
  BaselineServerTLSV1_2KMIPV1_3: 0x00000056,
  BaselineClientBasicKMIPV1_3: 0x00000057,
  BaselineClientTLSV1_2KMIPV1_3: 0x00000058,
  CompleteServerBasicKMIPV1_3: 0x00000059,
  CompleteServerTLSV1_2KMIPV1_3: 0x0000005a,
  TapeLibraryClientKMIPV1_3: 0x0000005b,
  TapeLibraryServerKMIPV1_3: 0x0000005c,
  SymmetricKeyLifecycleClientKMIPV1_3: 0x0000005d,
  SymmetricKeyLifecycleServerKMIPV1_3: 0x0000005e,
  AsymmetricKeyLifecycleClientKMIPV1_3: 0x0000005f,
  AsymmetricKeyLifecycleServerKMIPV1_3: 0x00000060,
  BasicCryptographicClientKMIPV1_3: 0x00000061,
  BasicCryptographicServerKMIPV1_3: 0x00000062,
  AdvancedCryptographicClientKMIPV1_3: 0x00000063,
  AdvancedCryptographicServerKMIPV1_3: 0x00000064,
  RNGCryptographicClientKMIPV1_3: 0x00000065,
  RNGCryptographicServerKMIPV1_3: 0x00000066,
  BasicSymmetricKeyFoundryClientKMIPV1_3: 0x00000067,
  IntermediateSymmetricKeyFoundryClientKMIPV1_3: 0x00000068,
  AdvancedSymmetricKeyFoundryClientKMIPV1_3: 0x00000069,
  SymmetricKeyFoundryServerKMIPV1_3: 0x0000006a,
  OpaqueManagedObjectStoreClientKMIPV1_3: 0x0000006b,
  OpaqueManagedObjectStoreServerKMIPV1_3: 0x0000006c,
  SUITE_BMinlos_128ClientKMIPV1_3: 0x0000006d,
  SUITE_BMinlos_128ServerKMIPV1_3: 0x0000006e,
  SUITE_BMinlos_192ClientKMIPV1_3: 0x0000006f,
  SUITE_BMinlos_192ServerKMIPV1_3: 0x00000070,
  StorageArrayWithSelfEncryptingDriveClientKMIPV1_3: 0x00000071,
  StorageArrayWithSelfEncryptingDriveServerKMIPV1_3: 0x00000072,
  HTTPSClientKMIPV1_3: 0x00000073,
  HTTPSServerKMIPV1_3: 0x00000074,
  JSONClientKMIPV1_3: 0x00000075,
  JSONServerKMIPV1_3: 0x00000076,
  XMLClientKMIPV1_3: 0x00000077,
  XMLServerKMIPV1_3: 0x00000078,
  // KMIP 1.4
  BaselineServerBasicKMIPV1_4: 0x00000079,
  BaselineServerTLSV1_2KMIPV1_4: 0x0000007a,
  BaselineClientBasicKMIPV1_4: 0x0000007b,
  BaselineClientTLSV1_2KMIPV1_4: 0x0000007c,
  CompleteServerBasicKMIPV1_4: 0x0000007d,
  CompleteServerTLSV1_2KMIPV1_4: 0x0000007e,
  TapeLibraryClientKMIPV1_4: 0x0000007f,
  TapeLibraryServerKMIPV1_4: 0x00000080,
  SymmetricKeyLifecycleClientKMIPV1_4: 0x00000081,
  SymmetricKeyLifecycleServerKMIPV1_4: 0x00000082,
  AsymmetricKeyLifecycleClientKMIPV1_4: 0x00000083,
  AsymmetricKeyLifecycleServerKMIPV1_4: 0x00000084,
  BasicCryptographicClientKMIPV1_4: 0x00000085,
  BasicCryptographicServerKMIPV1_4: 0x00000086,
  AdvancedCryptographicClientKMIPV1_4: 0x00000087,
  AdvancedCryptographicServerKMIPV1_4: 0x00000088,
  RNGCryptographicClientKMIPV1_4: 0x00000089,
  RNGCryptographicServerKMIPV1_4: 0x0000008a,
  BasicSymmetricKeyFoundryClientKMIPV1_4: 0x0000008b,
  IntermediateSymmetricKeyFoundryClientKMIPV1_4: 0x0000008c,
  AdvancedSymmetricKeyFoundryClientKMIPV1_4: 0x0000008d,
  SymmetricKeyFoundryServerKMIPV1_4: 0x0000008e,
  OpaqueManagedObjectStoreClientKMIPV1_4: 0x0000008f,
  OpaqueManagedObjectStoreServerKMIPV1_4: 0x00000090,
  SUITE_BMinlos_128ClientKMIPV1_4: 0x00000091,
  SUITE_BMinlos_128ServerKMIPV1_4: 0x00000092,
  SUITE_BMinlos_192ClientKMIPV1_4: 0x00000093,
  SUITE_BMinlos_192ServerKMIPV1_4: 0x00000094,
  StorageArrayWithSelfEncryptingDriveClientKMIPV1_4: 0x00000095,
  StorageArrayWithSelfEncryptingDriveServerKMIPV1_4: 0x00000096,
  HTTPSClientKMIPV1_4: 0x00000097,
  HTTPSServerKMIPV1_4: 0x00000098,
  JSONClientKMIPV1_4: 0x00000099,
  JSONServerKMIPV1_4: 0x0000009a,
  XMLClientKMIPV1_4: 0x0000009b,
  XMLServerKMIPV1_4: 0x0000009c,
  // KMIP 2.0
  CompleteServerBasic: 0x00000104,
  CompleteServerTLSV1_2: 0x00000105,
  TapeLibraryClient: 0x00000106,
  TapeLibraryServer: 0x00000107,
  SymmetricKeyLifecycleClient: 0x00000108,
  SymmetricKeyLifecycleServer: 0x00000109,
  AsymmetricKeyLifecycleClient: 0x0000010a,
  AsymmetricKeyLifecycleServer: 0x0000010b,
  BasicCryptographicClient: 0x0000010c,
  BasicCryptographicServer: 0x0000010d,
  AdvancedCryptographicClient: 0x0000010e,
  AdvancedCryptographicServer: 0x0000010f,
  RNGCryptographicClient: 0x00000110,
  RNGCryptographicServer: 0x00000111,
  BasicSymmetricKeyFoundryClient: 0x00000112,
  IntermediateSymmetricKeyFoundryClient: 0x00000113,
  AdvancedSymmetricKeyFoundryClient: 0x00000114,
  SymmetricKeyFoundryServer: 0x00000115,
  OpaqueManagedObjectStoreClient: 0x00000116,
  OpaqueManagedObjectStoreServer: 0x00000117,
  SUITE_BMinlos_128Client: 0x00000118,
  SUITE_BMinlos_128Server: 0x00000119,
  SUITE_BMinlos_192Client: 0x0000011a,
  SUITE_BMinlos_192Server: 0x0000011b,
  StorageArrayWithSelfEncryptingDriveClient: 0x0000011c,
  StorageArrayWithSelfEncryptingDriveServer: 0x0000011d,
  HTTPSClient: 0x0000011e,
  HTTPSServer: 0x0000011f,
  JSONClient: 0x00000120,
  JSONServer: 0x00000121,
  XMLClient: 0x00000122,
  XMLServer: 0x00000123,
  AES_XTSClient: 0x00000124,
  AES_XTSServer: 0x00000125,
  QuantumSafeClient: 0x00000126,
  QuantumSafeServer: 0x00000127,
  PKCS11Client: 0x00000128,
  PKCS11Server: 0x00000129,
  BaselineClient: 0x0000012a,
  BaselineServer: 0x0000012b,
  CompleteServer: 0x0000012c,
} as const);

export const ProtectionLevel = Object.freeze({
  // KMIP 2.0
  High: 0x00000001,
  Low: 0x00000002,
} as const);

export const ProtectionStorageMask = Object.freeze({
  // KMIP 2.0
  Software: 0x00000001,
  Hardware: 0x00000002,
  OnProcessor: 0x00000004,
  OnSystem: 0x00000008,
  OffSystem: 0x00000010,
  Hypervisor: 0x00000020,
  OperatingSystem: 0x00000040,
  Container: 0x00000080,
  OnPremises: 0x00000100,
  OffPremises: 0x00000200,
  SelfManaged: 0x00000400,
  Outsourced: 0x00000800,
  Validated: 0x00001000,
  SameJurisdiction: 0x00002000,
} as const);

export const PutFunction = Object.freeze({
  // KMIP 1.0
  New: 0x00000001,
  Replace: 0x00000002,
} as const);

export const QueryFunction = Object.freeze({
  // KMIP 1.0
  QueryOperations: 0x00000001,
  QueryObjects: 0x00000002,
  QueryServerInformation: 0x00000003,
  QueryApplicationNamespaces: 0x00000004,
  // KMIP 1.1
  QueryExtensionList: 0x00000005,
  QueryExtensionMap: 0x00000006,
  // KMIP 1.2
  QueryAttestationTypes: 0x00000007,
  // KMIP 1.3
  QueryRNGs: 0x00000008,
  QueryValidations: 0x00000009,
  QueryProfiles: 0x0000000a,
  QueryCapabilities: 0x0000000b,
  QueryClientRegistrationMethods: 0x0000000c,
  // KMIP 2.0
  QueryDefaultsInformation: 0x0000000d,
  QueryStorageProtectionMasks: 0x0000000e,
} as const);

export const RecommendedCurve = Object.freeze({
  // KMIP 1.0
  P_192: 0x00000001,
  K_163: 0x00000002,
  B_163: 0x00000003,
  P_224: 0x00000004,
  K_233: 0x00000005,
  B_233: 0x00000006,
  P_256: 0x00000007,
  K_283: 0x00000008,
  B_283: 0x00000009,
  P_384: 0x0000000a,
  K_409: 0x0000000b,
  B_409: 0x0000000c,
  P_521: 0x0000000d,
  K_571: 0x0000000e,
  B_571: 0x0000000f,
  // KMIP 1.2
  SECP112R1: 0x00000010,
  SECP112R2: 0x00000011,
  SECP128R1: 0x00000012,
  SECP128R2: 0x00000013,
  SECP160K1: 0x00000014,
  SECP160R1: 0x00000015,
  SECP160R2: 0x00000016,
  SECP192K1: 0x00000017,
  SECP224K1: 0x00000018,
  SECP256K1: 0x00000019,
  SECT113R1: 0x0000001a,
  SECT113R2: 0x0000001b,
  SECT131R1: 0x0000001c,
  SECT131R2: 0x0000001d,
  SECT163R1: 0x0000001e,
  SECT193R1: 0x0000001f,
  SECT193R2: 0x00000020,
  SECT239K1: 0x00000021,
  ANSIX9P192V2: 0x00000022,
  ANSIX9P192V3: 0x00000023,
  ANSIX9P239V1: 0x00000024,
  ANSIX9P239V2: 0x00000025,
  ANSIX9P239V3: 0x00000026,
  ANSIX9C2PNB163V1: 0x00000027,
  ANSIX9C2PNB163V2: 0x00000028,
  ANSIX9C2PNB163V3: 0x00000029,
  ANSIX9C2PNB176V1: 0x0000002a,
  ANSIX9C2TNB191V1: 0x0000002b,
  ANSIX9C2TNB191V2: 0x0000002c,
  ANSIX9C2TNB191V3: 0x0000002d,
  ANSIX9C2PNB208W1: 0x0000002e,
  ANSIX9C2TNB239V1: 0x0000002f,
  ANSIX9C2TNB239V2: 0x00000030,
  ANSIX9C2TNB239V3: 0x00000031,
  ANSIX9C2PNB272W1: 0x00000032,
  ANSIX9C2PNB304W1: 0x00000033,
  ANSIX9C2TNB359V1: 0x00000034,
  ANSIX9C2PNB368W1: 0x00000035,
  ANSIX9C2TNB431R1: 0x00000036,
  BRAINPOOLP160R1: 0x00000037,
  BRAINPOOLP160T1: 0x00000038,
  BRAINPOOLP192R1: 0x00000039,
  BRAINPOOLP192T1: 0x0000003a,
  BRAINPOOLP224R1: 0x0000003b,
  BRAINPOOLP224T1: 0x0000003c,
  BRAINPOOLP256R1: 0x0000003d,
  BRAINPOOLP256T1: 0x0000003e,
  BRAINPOOLP320R1: 0x0000003f,
  BRAINPOOLP320T1: 0x00000040,
  BRAINPOOLP384R1: 0x00000041,
  BRAINPOOLP384T1: 0x00000042,
  BRAINPOOLP512R1: 0x00000043,
  BRAINPOOLP512T1: 0x00000044,
  // KMIP 2.0
  CURVE25519: 0x00000045,
  CURVE448: 0x00000046,
} as const);

export const ResultReason = Object.freeze({
  // KMIP 1.0
  ItemNotFound: 0x00000001,
  ResponseTooLarge: 0x00000002,
  AuthenticationNotSuccessful: 0x00000003,
  InvalidMessage: 0x00000004,
  OperationNotSupported: 0x00000005,
  MissingData: 0x00000006,
  InvalidField: 0x00000007,
  FeatureNotSupported: 0x00000008,
  OperationCanceledByRequester: 0x00000009,
  CryptographicFailure: 0x0000000a,
  IllegalOperation: 0x0000000b,
  PermissionDenied: 0x0000000c,
  ObjectArchived: 0x0000000d,
  IndexOutOfBounds: 0x0000000e,
  ApplicationNamespaceNotSupported: 0x0000000f,
  KeyFormatTypeNotSupported: 0x00000010,
  KeyCompressionTypeNotSupported: 0x00000011,
  EncodingOptionError: 0x00000012,
  KeyValueNotPresent: 0x00000013,
  AttestationRequired: 0x00000014,
  AttestationFailed: 0x00000015,
  Sensitive: 0x00000016,
  NotExtractable: 0x00000017,
  ObjectAlreadyExists: 0x00000018,
  GeneralFailure: 0x00000100,
  // KMIP 2.0
  InvalidTicket: 0x00000019,
  UsageLimitExceeded: 0x0000001a,
  NumericRange: 0x0000001b,
  InvalidDataType: 0x0000001c,
  ReadOnlyAttribute: 0x0000001d,
  MultiValuedAttribute: 0x0000001e,
  UnsupportedAttribute: 0x0000001f,
  AttributeInstanceNotFound: 0x00000020,
  AttributeNotFound: 0x00000021,
  AttributeReadOnly: 0x00000022,
  AttributeSingleValued: 0x00000023,
  BadCryptographicParameters: 0x00000024,
  BadPassword: 0x00000025,
  CodecError: 0x00000026,
  IllegalObjectType: 0x00000028,
  IncompatibleCryptographicUsageMask: 0x00000029,
  InternalServerError: 0x0000002a,
  InvalidAsynchronousCorrelationValue: 0x0000002b,
  InvalidAttribute: 0x0000002c,
  InvalidAttributeValue: 0x0000002d,
  InvalidCorrelationValue: 0x0000002e,
  InvalidCSR: 0x0000002f,
  InvalidObjectType: 0x00000030,
  KeyWrapTypeNotSupported: 0x00000032,
  MissingInitializationVector: 0x00000034,
  NonUniqueNameAttribute: 0x00000035,
  ObjectDestroyed: 0x00000036,
  ObjectNotFound: 0x00000037,
  NotAuthorised: 0x00000039,
  ServerLimitExceeded: 0x0000003a,
  UnknownEnumeration: 0x0000003b,
  UnknownMessageExtension: 0x0000003c,
  UnknownTag: 0x0000003d,
  UnsupportedCryptographicParameters: 0x0000003e,
  UnsupportedProtocolVersion: 0x0000003f,
  WrappingObjectArchived: 0x00000040,
  WrappingObjectDestroyed: 0x00000041,
  WrappingObjectNotFound: 0x00000042,
  WrongKeyLifecycleState: 0x00000043,
  ProtectionStorageUnavailable: 0x00000044,
  PKCS_11CodecError: 0x00000045,
  PKCS_11InvalidFunction: 0x00000046,
  PKCS_11InvalidInterface: 0x00000047,
  // KMIP 2.1
  PrivateProtectionStorageUnavailable: 0x00000048,
  PublicProtectionStorageUnavailable: 0x00000049,
  UnknownObjectGroup: 0x0000004a,
  ConstraintViolation: 0x0000004b,
  DuplicateProcessRequest: 0x0000004c,
} as const);

export const ResultStatus = Object.freeze({
  // KMIP 1.0
  Success: 0x00000000,
  OperationFailed: 0x00000001,
  OperationPending: 0x00000002,
  OperationUndone: 0x00000003,
} as const);

export const RevocationReasonCode = Object.freeze({
  // KMIP 1.0
  Unspecified: 0x00000001,
  KeyCompromise: 0x00000002,
  CACompromise: 0x00000003,
  AffiliationChanged: 0x00000004,
  Superseded: 0x00000005,
  CessationOfOperation: 0x00000006,
  PrivilegeWithdrawn: 0x00000007,
} as const);

export const RNGAlgorithm = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  FIPS186_2: 0x00000002,
  DRBG: 0x00000003,
  NRBG: 0x00000004,
  ANSIX9_31: 0x00000005,
  ANSIX9_62: 0x00000006,
} as const);

export const RNGMode = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  SharedInstantiation: 0x00000002,
  NonSharedInstantiation: 0x00000003,
} as const);

export const SecretDataType = Object.freeze({
  // KMIP 1.0
  Password: 0x00000001,
  Seed: 0x00000002,
} as const);

export const ShreddingAlgorithm = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  Cryptographic: 0x00000002,
  Unsupported: 0x00000003,
} as const);

export const SplitKeyMethod = Object.freeze({
  // KMIP 1.0
  XOR: 0x00000001,
  PolynomialSharingGF2_16: 0x00000002,
  PolynomialSharingPrimeField: 0x00000003,
  // KMIP 1.2
  PolynomialSharingGF2_8: 0x00000004,
} as const);

export const State = Object.freeze({
  // KMIP 1.0
  PreActive: 0x00000001,
  Active: 0x00000002,
  Deactivated: 0x00000003,
  Compromised: 0x00000004,
  Destroyed: 0x00000005,
  DestroyedCompromised: 0x00000006,
} as const);

export const StorageStatusMask = Object.freeze({
  // KMIP 1.0
  OnlineStorage: 0x00000001,
  ArchivalStorage: 0x00000002,
  // KMIP 2.0
  DestroyedStorage: 0x00000004,
} as const);

export const TicketType = Object.freeze({
  // KMIP 2.0
  Login: 0x00000001,
} as const);

export const UniqueIdentifier = Object.freeze({
  // KMIP 2.0
  IDPlaceholder: 0x00000001,
  Certify: 0x00000002,
  Create: 0x00000003,
  CreateKeyPair: 0x00000004,
  CreateKeyPairPrivateKey: 0x00000005,
  CreateKeyPairPublicKey: 0x00000006,
  CreateSplitKey: 0x00000007,
  DeriveKey: 0x00000008,
  Import: 0x00000009,
  JoinSplitKey: 0x0000000a,
  Locate: 0x0000000b,
  Register: 0x0000000c,
  ReKey: 0x0000000d,
  ReCertify: 0x0000000e,
  ReKeyKeyPair: 0x0000000f,
  RekeyKeyPairPrivateKey: 0x00000010,
  RekeyKeyPairPublicKey: 0x00000011,
} as const);

export const UnwrapMode = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  Processed: 0x00000002,
  NotProcessed: 0x00000003,
} as const);

export const UsageLimitsUnit = Object.freeze({
  // KMIP 1.0
  Byte: 0x00000001,
  Object: 0x00000002,
} as const);

export const ValidationAuthorityType = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  NISTCMVP: 0x00000002,
  CommonCriteria: 0x00000003,
} as const);

export const ValidationType = Object.freeze({
  // KMIP 1.3
  Unspecified: 0x00000001,
  Hardware: 0x00000002,
  Software: 0x00000003,
  Firmware: 0x00000004,
  Hybrid: 0x00000005,
} as const);

export const ValidityIndicator = Object.freeze({
  // KMIP 1.0
  Valid: 0x00000001,
  Invalid: 0x00000002,
  Unknown: 0x00000003,
} as const);

export const WrappingMethod = Object.freeze({
  // KMIP 1.0
  Encrypt: 0x00000001,
  MACSign: 0x00000002,
  EncryptThenMACSign: 0x00000003,
  MACSignThenEncrypt: 0x00000004,
  TR_31: 0x00000005,
} as const);

/** KMIP 2.1 Processing Stage (asynchronous requests). */
export const ProcessingStage = Object.freeze({
  // KMIP 2.1
  Submitted: 0x00000001,
  InProcess: 0x00000002,
  Completed: 0x00000003,
} as const);

/** KMIP 2.1 Rotate Name Type. */
export const RotateNameType = Object.freeze({
  // KMIP 2.1
  UninterpretedTextString: 0x00000001,
  URI: 0x00000002,
} as const);

/** An enumeration or bit mask: its name, values by name and the KMIP version of each value. */
export interface EnumDef {
  readonly name: string;
  readonly values: Readonly<Record<string, number>>;
  /** Version that introduced each value ('1.0' when present from the start). */
  readonly since: Readonly<Record<string, string>>;
  /** Values that KMIP 2.0 designates (Reserved). */
  readonly reservedIn2: readonly string[];
}

const SINCE: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ProcessingStage: { Submitted: '2.1', InProcess: '2.1', Completed: '2.1' },
  RotateNameType: { UninterpretedTextString: '2.1', URI: '2.1' },
  AdjustmentType: { Increment: '2.0', Decrement: '2.0', Negate: '2.0' },
  AlternativeNameType: {
    UninterpretedTextString: '1.2',
    URI: '1.2',
    ObjectSerialNumber: '1.2',
    EmailAddress: '1.2',
    DNSName: '1.2',
    X500DistinguishedName: '1.2',
    IPAddress: '1.2',
  },
  AsynchronousIndicator: { Mandatory: '2.0', Optional: '2.0', Prohibited: '2.0' },
  AttestationType: { TPMQuote: '1.2', TCGIntegrityReport: '1.2', SAMLAssertion: '1.2' },
  BatchErrorContinuationOption: {},
  BlockCipherMode: { AEAD: '1.4' },
  CancellationResult: {},
  CertificateRequestType: {},
  CertificateType: {},
  ClientRegistrationMethod: {
    Unspecified: '1.3',
    ServerPreGenerated: '1.3',
    ServerOnDemand: '1.3',
    ClientGenerated: '1.3',
    ClientRegistered: '1.3',
  },
  CredentialType: {
    Device: '1.1',
    Attestation: '1.2',
    OneTimePassword: '2.0',
    HashedPassword: '2.0',
    Ticket: '2.0',
  },
  CryptographicAlgorithm: {
    EC: '1.2',
    OneTimePad: '1.3',
    ChaCha20: '1.4',
    Poly1305: '1.4',
    ChaCha20Poly1305: '1.4',
    SHA3_224: '1.4',
    SHA3_256: '1.4',
    SHA3_384: '1.4',
    SHA3_512: '1.4',
    HMAC_SHA3_224: '1.4',
    HMAC_SHA3_256: '1.4',
    HMAC_SHA3_384: '1.4',
    HMAC_SHA3_512: '1.4',
    SHAKE_128: '1.4',
    SHAKE_256: '1.4',
    ARIA: '2.0',
    SEED: '2.0',
    SM2: '2.0',
    SM3: '2.0',
    SM4: '2.0',
    GOSTR34_10_2012: '2.0',
    GOSTR34_11_2012: '2.0',
    GOSTR34_13_2015: '2.0',
    GOST28147_89: '2.0',
    XMSS: '2.0',
    SPHINCS_256: '2.0',
    McEliece: '2.0',
    McEliece_6960119: '2.0',
    McEliece_8192128: '2.0',
    Ed25519: '2.0',
    Ed448: '2.0',
  },
  CryptographicUsageMask: { Authenticate: '2.0', Unrestricted: '2.0', FPEEncrypt: '2.0', FPEDecrypt: '2.0' },
  Data: {
    Decrypt: '2.0',
    Encrypt: '2.0',
    Hash: '2.0',
    MAC_MACData: '2.0',
    RNGRetrieve: '2.0',
    SignSignatureData: '2.0',
    SignatureVerify: '2.0',
  },
  DerivationMethod: { AsymmetricKey: '1.4', AWSSignatureVersion4: '2.0', HKDF: '2.0' },
  DestroyAction: {
    Unspecified: '1.3',
    KeyMaterialDeleted: '1.3',
    KeyMaterialShredded: '1.3',
    MetaDataDeleted: '1.3',
    MetaDataShredded: '1.3',
    Deleted: '1.3',
    Shredded: '1.3',
  },
  DigitalSignatureAlgorithm: {
    MD2WithRSAEncryption: '1.1',
    MD5WithRSAEncryption: '1.1',
    SHA_1WithRSAEncryption: '1.1',
    SHA_224WithRSAEncryption: '1.1',
    SHA_256WithRSAEncryption: '1.1',
    SHA_384WithRSAEncryption: '1.1',
    SHA_512WithRSAEncryption: '1.1',
    RSASSA_PSS: '1.1',
    DSAWithSHA_1: '1.1',
    DSAWithSHA224: '1.1',
    DSAWithSHA256: '1.1',
    ECDSAWithSHA_1: '1.1',
    ECDSAWithSHA224: '1.1',
    ECDSAWithSHA256: '1.1',
    ECDSAWithSHA384: '1.1',
    ECDSAWithSHA512: '1.1',
    SHA3_256WithRSAEncryption: '1.4',
    SHA3_384WithRSAEncryption: '1.4',
    SHA3_512WithRSAEncryption: '1.4',
  },
  DRBGAlgorithm: { Unspecified: '1.3', Dual_EC: '1.3', Hash: '1.3', HMAC: '1.3', CTR: '1.3' },
  EncodingOption: { NoEncoding: '1.1', TTLVEncoding: '1.1' },
  EndpointRole: {},
  FIPS186Variation: {
    Unspecified: '1.3',
    GPXOriginal: '1.3',
    GPXChangeNotice: '1.3',
    XOriginal: '1.3',
    XChangeNotice: '1.3',
    KOriginal: '1.3',
    KChangeNotice: '1.3',
  },
  HashingAlgorithm: {
    SHA_512_224: '1.2',
    SHA_512_256: '1.2',
    SHA3_224: '1.4',
    SHA3_256: '1.4',
    SHA3_384: '1.4',
    SHA3_512: '1.4',
  },
  InteropFunction: { Begin: '2.0', End: '2.0', Reset: '2.0' },
  ItemType: {
    Structure: '2.0',
    Integer: '2.0',
    LongInteger: '2.0',
    BigInteger: '2.0',
    Enumeration: '2.0',
    Boolean: '2.0',
    TextString: '2.0',
    ByteString: '2.0',
    DateTime: '2.0',
    Interval: '2.0',
    DateTimeExtended: '2.0',
  },
  KeyCompressionType: {},
  KeyFormatType: {
    TransparentECPrivateKey: '1.3',
    TransparentECPublicKey: '1.3',
    PKCS_12: '1.4',
    PKCS_10: '2.1',
  },
  KeyRoleType: { DUKPT: '1.4', IV: '1.4', TRKBK: '1.4' },
  KeyValueLocationType: { UninterpretedTextString: '1.2', URI: '1.2' },
  KeyWrapType: {},
  LinkType: {
    ParentLink: '1.2',
    ChildLink: '1.2',
    PreviousLink: '1.2',
    NextLink: '1.2',
    PKCS_12CertificateLink: '1.4',
    PKCS_12PasswordLink: '1.4',
    WrappingKeyLink: '2.0',
  },
  MaskGenerator: { MGF1: '1.4' },
  NameType: {},
  NISTKeyType: {
    PrivateSignatureKey: '2.0',
    PublicSignatureVerificationKey: '2.0',
    SymmetricAuthenticationKey: '2.0',
    PrivateAuthenticationKey: '2.0',
    PublicAuthenticationKey: '2.0',
    SymmetricDataEncryptionKey: '2.0',
    SymmetricKeyWrappingKey: '2.0',
    SymmetricRandomNumberGenerationKey: '2.0',
    SymmetricMasterKey: '2.0',
    PrivateKeyTransportKey: '2.0',
    PublicKeyTransportKey: '2.0',
    SymmetricKeyAgreementKey: '2.0',
    PrivateStaticKeyAgreementKey: '2.0',
    PublicStaticKeyAgreementKey: '2.0',
    PrivateEphemeralKeyAgreementKey: '2.0',
    PublicEphemeralKeyAgreementKey: '2.0',
    SymmetricAuthorizationKey: '2.0',
    PrivateAuthorizationKey: '2.0',
    PublicAuthorizationKey: '2.0',
  },
  ObjectGroupMember: { GroupMemberFresh: '1.1', GroupMemberDefault: '1.1' },
  ObjectType: { PGPKey: '1.2', CertificateRequest: '2.0' },
  OpaqueDataType: {},
  Operation: {
    ReKeyKeyPair: '1.1',
    DiscoverVersions: '1.1',
    Encrypt: '1.2',
    Decrypt: '1.2',
    Sign: '1.2',
    SignatureVerify: '1.2',
    MAC: '1.2',
    MACVerify: '1.2',
    RNGRetrieve: '1.2',
    RNGSeed: '1.2',
    Hash: '1.2',
    CreateSplitKey: '1.2',
    JoinSplitKey: '1.2',
    Import: '1.4',
    Export: '1.4',
    Log: '2.0',
    Login: '2.0',
    Logout: '2.0',
    DelegatedLogin: '2.0',
    AdjustAttribute: '2.0',
    SetAttribute: '2.0',
    SetEndpointRole: '2.0',
    PKCS_11: '2.0',
    Interop: '2.0',
    ReProvision: '2.0',
    SetDefaults: '2.1',
    SetConstraints: '2.1',
    GetConstraints: '2.1',
    QueryAsynchronousRequests: '2.1',
    Process: '2.1',
    Ping: '2.1',
  },
  PaddingMethod: {},
  PKCS_11Function: { C_Initialize: '2.0', C_Finalize: '2.0', C_GetInfo: '2.0', C_GetFunctionList: '2.0' },
  PKCS_11ReturnCode: { OK: '2.0' },
  ProfileName: {
    BaselineServerBasicKMIPV1_2: '1.3',
    BaselineServerTLSV1_2KMIPV1_2: '1.3',
    BaselineClientBasicKMIPV1_2: '1.3',
    BaselineClientTLSV1_2KMIPV1_2: '1.3',
    CompleteServerBasicKMIPV1_2: '1.3',
    CompleteServerTLSV1_2KMIPV1_2: '1.3',
    TapeLibraryClientKMIPV1_0: '1.3',
    TapeLibraryClientKMIPV1_1: '1.3',
    TapeLibraryClientKMIPV1_2: '1.3',
    TapeLibraryServerKMIPV1_0: '1.3',
    TapeLibraryServerKMIPV1_1: '1.3',
    TapeLibraryServerKMIPV1_2: '1.3',
    SymmetricKeyLifecycleClientKMIPV1_0: '1.3',
    SymmetricKeyLifecycleClientKMIPV1_1: '1.3',
    SymmetricKeyLifecycleClientKMIPV1_2: '1.3',
    SymmetricKeyLifecycleServerKMIPV1_0: '1.3',
    SymmetricKeyLifecycleServerKMIPV1_1: '1.3',
    SymmetricKeyLifecycleServerKMIPV1_2: '1.3',
    AsymmetricKeyLifecycleClientKMIPV1_0: '1.3',
    AsymmetricKeyLifecycleClientKMIPV1_1: '1.3',
    AsymmetricKeyLifecycleClientKMIPV1_2: '1.3',
    AsymmetricKeyLifecycleServerKMIPV1_0: '1.3',
    AsymmetricKeyLifecycleServerKMIPV1_1: '1.3',
    AsymmetricKeyLifecycleServerKMIPV1_2: '1.3',
    BasicCryptographicClientKMIPV1_2: '1.3',
    BasicCryptographicServerKMIPV1_2: '1.3',
    AdvancedCryptographicClientKMIPV1_2: '1.3',
    AdvancedCryptographicServerKMIPV1_2: '1.3',
    RNGCryptographicClientKMIPV1_2: '1.3',
    RNGCryptographicServerKMIPV1_2: '1.3',
    BasicSymmetricKeyFoundryClientKMIPV1_0: '1.3',
    IntermediateSymmetricKeyFoundryClientKMIPV1_0: '1.3',
    AdvancedSymmetricKeyFoundryClientKMIPV1_0: '1.3',
    BasicSymmetricKeyFoundryClientKMIPV1_1: '1.3',
    IntermediateSymmetricKeyFoundryClientKMIPV1_1: '1.3',
    AdvancedSymmetricKeyFoundryClientKMIPV1_1: '1.3',
    BasicSymmetricKeyFoundryClientKMIPV1_2: '1.3',
    IntermediateSymmetricKeyFoundryClientKMIPV1_2: '1.3',
    AdvancedSymmetricKeyFoundryClientKMIPV1_2: '1.3',
    SymmetricKeyFoundryServerKMIPV1_0: '1.3',
    SymmetricKeyFoundryServerKMIPV1_1: '1.3',
    SymmetricKeyFoundryServerKMIPV1_2: '1.3',
    OpaqueManagedObjectStoreClientKMIPV1_0: '1.3',
    OpaqueManagedObjectStoreClientKMIPV1_1: '1.3',
    OpaqueManagedObjectStoreClientKMIPV1_2: '1.3',
    OpaqueManagedObjectStoreServerKMIPV1_0: '1.3',
    OpaqueManagedObjectStoreServerKMIPV1_1: '1.3',
    OpaqueManagedObjectStoreServerKMIPV1_2: '1.3',
    SUITE_BMinlos_128ClientKMIPV1_0: '1.3',
    SUITE_BMinlos_128ClientKMIPV1_1: '1.3',
    SUITE_BMinlos_128ClientKMIPV1_2: '1.3',
    SuiteBMinLOS_128ServerKMIPV1_0: '1.3',
    SuiteBMinLOS_128ServerKMIPV1_1: '1.3',
    SuiteBMinLOS_128ServerKMIPV1_2: '1.3',
    SUITE_BMinlos_192ClientKMIPV1_0: '1.3',
    SUITE_BMinlos_192ClientKMIPV1_1: '1.3',
    SUITE_BMinlos_192ClientKMIPV1_2: '1.3',
    SuiteBMinLOS_192ServerKMIPV1_0: '1.3',
    SuiteBMinLOS_192ServerKMIPV1_1: '1.3',
    SuiteBMinLOS_192ServerKMIPV1_2: '1.3',
    StorageArrayWithSelfEncryptingDriveClientKMIPV1_0: '1.3',
    StorageArrayWithSelfEncryptingDriveClientKMIPV1_1: '1.3',
    StorageArrayWithSelfEncryptingDriveClientKMIPV1_2: '1.3',
    StorageArrayWithSelfEncryptingDriveServerKMIPV1_0: '1.3',
    StorageArrayWithSelfEncryptingDriveServerKMIPV1_1: '1.3',
    StorageArrayWithSelfEncryptingDriveServerKMIPV1_2: '1.3',
    HTTPSClientKMIPV1_0: '1.3',
    HTTPSClientKMIPV1_1: '1.3',
    HTTPSClientKMIPV1_2: '1.3',
    HTTPSServerKMIPV1_0: '1.3',
    HTTPSServerKMIPV1_1: '1.3',
    HTTPSServerKMIPV1_2: '1.3',
    JSONClientKMIPV1_0: '1.3',
    JSONClientKMIPV1_1: '1.3',
    JSONClientKMIPV1_2: '1.3',
    JSONServerKMIPV1_0: '1.3',
    JSONServerKMIPV1_1: '1.3',
    JSONServerKMIPV1_2: '1.3',
    XMLClientKMIPV1_0: '1.3',
    XMLClientKMIPV1_1: '1.3',
    XMLClientKMIPV1_2: '1.3',
    XMLServerKMIPV1_0: '1.3',
    XMLServerKMIPV1_1: '1.3',
    XMLServerKMIPV1_2: '1.3',
    BaselineServerBasicKMIPV1_3: '1.3',
    BaselineServerTLSV1_2KMIPV1_3: '1.3',
    BaselineClientBasicKMIPV1_3: '1.3',
    BaselineClientTLSV1_2KMIPV1_3: '1.3',
    CompleteServerBasicKMIPV1_3: '1.3',
    CompleteServerTLSV1_2KMIPV1_3: '1.3',
    TapeLibraryClientKMIPV1_3: '1.3',
    TapeLibraryServerKMIPV1_3: '1.3',
    SymmetricKeyLifecycleClientKMIPV1_3: '1.3',
    SymmetricKeyLifecycleServerKMIPV1_3: '1.3',
    AsymmetricKeyLifecycleClientKMIPV1_3: '1.3',
    AsymmetricKeyLifecycleServerKMIPV1_3: '1.3',
    BasicCryptographicClientKMIPV1_3: '1.3',
    BasicCryptographicServerKMIPV1_3: '1.3',
    AdvancedCryptographicClientKMIPV1_3: '1.3',
    AdvancedCryptographicServerKMIPV1_3: '1.3',
    RNGCryptographicClientKMIPV1_3: '1.3',
    RNGCryptographicServerKMIPV1_3: '1.3',
    BasicSymmetricKeyFoundryClientKMIPV1_3: '1.3',
    IntermediateSymmetricKeyFoundryClientKMIPV1_3: '1.3',
    AdvancedSymmetricKeyFoundryClientKMIPV1_3: '1.3',
    SymmetricKeyFoundryServerKMIPV1_3: '1.3',
    OpaqueManagedObjectStoreClientKMIPV1_3: '1.3',
    OpaqueManagedObjectStoreServerKMIPV1_3: '1.3',
    SUITE_BMinlos_128ClientKMIPV1_3: '1.3',
    SUITE_BMinlos_128ServerKMIPV1_3: '1.3',
    SUITE_BMinlos_192ClientKMIPV1_3: '1.3',
    SUITE_BMinlos_192ServerKMIPV1_3: '1.3',
    StorageArrayWithSelfEncryptingDriveClientKMIPV1_3: '1.3',
    StorageArrayWithSelfEncryptingDriveServerKMIPV1_3: '1.3',
    HTTPSClientKMIPV1_3: '1.3',
    HTTPSServerKMIPV1_3: '1.3',
    JSONClientKMIPV1_3: '1.3',
    JSONServerKMIPV1_3: '1.3',
    XMLClientKMIPV1_3: '1.3',
    XMLServerKMIPV1_3: '1.3',
    BaselineServerBasicKMIPV1_4: '1.4',
    BaselineServerTLSV1_2KMIPV1_4: '1.4',
    BaselineClientBasicKMIPV1_4: '1.4',
    BaselineClientTLSV1_2KMIPV1_4: '1.4',
    CompleteServerBasicKMIPV1_4: '1.4',
    CompleteServerTLSV1_2KMIPV1_4: '1.4',
    TapeLibraryClientKMIPV1_4: '1.4',
    TapeLibraryServerKMIPV1_4: '1.4',
    SymmetricKeyLifecycleClientKMIPV1_4: '1.4',
    SymmetricKeyLifecycleServerKMIPV1_4: '1.4',
    AsymmetricKeyLifecycleClientKMIPV1_4: '1.4',
    AsymmetricKeyLifecycleServerKMIPV1_4: '1.4',
    BasicCryptographicClientKMIPV1_4: '1.4',
    BasicCryptographicServerKMIPV1_4: '1.4',
    AdvancedCryptographicClientKMIPV1_4: '1.4',
    AdvancedCryptographicServerKMIPV1_4: '1.4',
    RNGCryptographicClientKMIPV1_4: '1.4',
    RNGCryptographicServerKMIPV1_4: '1.4',
    BasicSymmetricKeyFoundryClientKMIPV1_4: '1.4',
    IntermediateSymmetricKeyFoundryClientKMIPV1_4: '1.4',
    AdvancedSymmetricKeyFoundryClientKMIPV1_4: '1.4',
    SymmetricKeyFoundryServerKMIPV1_4: '1.4',
    OpaqueManagedObjectStoreClientKMIPV1_4: '1.4',
    OpaqueManagedObjectStoreServerKMIPV1_4: '1.4',
    SUITE_BMinlos_128ClientKMIPV1_4: '1.4',
    SUITE_BMinlos_128ServerKMIPV1_4: '1.4',
    SUITE_BMinlos_192ClientKMIPV1_4: '1.4',
    SUITE_BMinlos_192ServerKMIPV1_4: '1.4',
    StorageArrayWithSelfEncryptingDriveClientKMIPV1_4: '1.4',
    StorageArrayWithSelfEncryptingDriveServerKMIPV1_4: '1.4',
    HTTPSClientKMIPV1_4: '1.4',
    HTTPSServerKMIPV1_4: '1.4',
    JSONClientKMIPV1_4: '1.4',
    JSONServerKMIPV1_4: '1.4',
    XMLClientKMIPV1_4: '1.4',
    XMLServerKMIPV1_4: '1.4',
    CompleteServerBasic: '2.0',
    CompleteServerTLSV1_2: '2.0',
    TapeLibraryClient: '2.0',
    TapeLibraryServer: '2.0',
    SymmetricKeyLifecycleClient: '2.0',
    SymmetricKeyLifecycleServer: '2.0',
    AsymmetricKeyLifecycleClient: '2.0',
    AsymmetricKeyLifecycleServer: '2.0',
    BasicCryptographicClient: '2.0',
    BasicCryptographicServer: '2.0',
    AdvancedCryptographicClient: '2.0',
    AdvancedCryptographicServer: '2.0',
    RNGCryptographicClient: '2.0',
    RNGCryptographicServer: '2.0',
    BasicSymmetricKeyFoundryClient: '2.0',
    IntermediateSymmetricKeyFoundryClient: '2.0',
    AdvancedSymmetricKeyFoundryClient: '2.0',
    SymmetricKeyFoundryServer: '2.0',
    OpaqueManagedObjectStoreClient: '2.0',
    OpaqueManagedObjectStoreServer: '2.0',
    SUITE_BMinlos_128Client: '2.0',
    SUITE_BMinlos_128Server: '2.0',
    SUITE_BMinlos_192Client: '2.0',
    SUITE_BMinlos_192Server: '2.0',
    StorageArrayWithSelfEncryptingDriveClient: '2.0',
    StorageArrayWithSelfEncryptingDriveServer: '2.0',
    HTTPSClient: '2.0',
    HTTPSServer: '2.0',
    JSONClient: '2.0',
    JSONServer: '2.0',
    XMLClient: '2.0',
    XMLServer: '2.0',
    AES_XTSClient: '2.0',
    AES_XTSServer: '2.0',
    QuantumSafeClient: '2.0',
    QuantumSafeServer: '2.0',
    PKCS11Client: '2.0',
    PKCS11Server: '2.0',
    BaselineClient: '2.0',
    BaselineServer: '2.0',
    CompleteServer: '2.0',
  },
  ProtectionLevel: { High: '2.0', Low: '2.0' },
  ProtectionStorageMask: {
    Software: '2.0',
    Hardware: '2.0',
    OnProcessor: '2.0',
    OnSystem: '2.0',
    OffSystem: '2.0',
    Hypervisor: '2.0',
    OperatingSystem: '2.0',
    Container: '2.0',
    OnPremises: '2.0',
    OffPremises: '2.0',
    SelfManaged: '2.0',
    Outsourced: '2.0',
    Validated: '2.0',
    SameJurisdiction: '2.0',
  },
  PutFunction: {},
  QueryFunction: {
    QueryExtensionList: '1.1',
    QueryExtensionMap: '1.1',
    QueryAttestationTypes: '1.2',
    QueryRNGs: '1.3',
    QueryValidations: '1.3',
    QueryProfiles: '1.3',
    QueryCapabilities: '1.3',
    QueryClientRegistrationMethods: '1.3',
    QueryDefaultsInformation: '2.0',
    QueryStorageProtectionMasks: '2.0',
  },
  RecommendedCurve: {
    SECP112R1: '1.2',
    SECP112R2: '1.2',
    SECP128R1: '1.2',
    SECP128R2: '1.2',
    SECP160K1: '1.2',
    SECP160R1: '1.2',
    SECP160R2: '1.2',
    SECP192K1: '1.2',
    SECP224K1: '1.2',
    SECP256K1: '1.2',
    SECT113R1: '1.2',
    SECT113R2: '1.2',
    SECT131R1: '1.2',
    SECT131R2: '1.2',
    SECT163R1: '1.2',
    SECT193R1: '1.2',
    SECT193R2: '1.2',
    SECT239K1: '1.2',
    ANSIX9P192V2: '1.2',
    ANSIX9P192V3: '1.2',
    ANSIX9P239V1: '1.2',
    ANSIX9P239V2: '1.2',
    ANSIX9P239V3: '1.2',
    ANSIX9C2PNB163V1: '1.2',
    ANSIX9C2PNB163V2: '1.2',
    ANSIX9C2PNB163V3: '1.2',
    ANSIX9C2PNB176V1: '1.2',
    ANSIX9C2TNB191V1: '1.2',
    ANSIX9C2TNB191V2: '1.2',
    ANSIX9C2TNB191V3: '1.2',
    ANSIX9C2PNB208W1: '1.2',
    ANSIX9C2TNB239V1: '1.2',
    ANSIX9C2TNB239V2: '1.2',
    ANSIX9C2TNB239V3: '1.2',
    ANSIX9C2PNB272W1: '1.2',
    ANSIX9C2PNB304W1: '1.2',
    ANSIX9C2TNB359V1: '1.2',
    ANSIX9C2PNB368W1: '1.2',
    ANSIX9C2TNB431R1: '1.2',
    BRAINPOOLP160R1: '1.2',
    BRAINPOOLP160T1: '1.2',
    BRAINPOOLP192R1: '1.2',
    BRAINPOOLP192T1: '1.2',
    BRAINPOOLP224R1: '1.2',
    BRAINPOOLP224T1: '1.2',
    BRAINPOOLP256R1: '1.2',
    BRAINPOOLP256T1: '1.2',
    BRAINPOOLP320R1: '1.2',
    BRAINPOOLP320T1: '1.2',
    BRAINPOOLP384R1: '1.2',
    BRAINPOOLP384T1: '1.2',
    BRAINPOOLP512R1: '1.2',
    BRAINPOOLP512T1: '1.2',
    CURVE25519: '2.0',
    CURVE448: '2.0',
  },
  ResultReason: {
    InvalidTicket: '2.0',
    UsageLimitExceeded: '2.0',
    NumericRange: '2.0',
    InvalidDataType: '2.0',
    ReadOnlyAttribute: '2.0',
    MultiValuedAttribute: '2.0',
    UnsupportedAttribute: '2.0',
    AttributeInstanceNotFound: '2.0',
    AttributeNotFound: '2.0',
    AttributeReadOnly: '2.0',
    AttributeSingleValued: '2.0',
    BadCryptographicParameters: '2.0',
    BadPassword: '2.0',
    CodecError: '2.0',
    IllegalObjectType: '2.0',
    IncompatibleCryptographicUsageMask: '2.0',
    InternalServerError: '2.0',
    InvalidAsynchronousCorrelationValue: '2.0',
    InvalidAttribute: '2.0',
    InvalidAttributeValue: '2.0',
    InvalidCorrelationValue: '2.0',
    InvalidCSR: '2.0',
    InvalidObjectType: '2.0',
    KeyWrapTypeNotSupported: '2.0',
    MissingInitializationVector: '2.0',
    NonUniqueNameAttribute: '2.0',
    ObjectDestroyed: '2.0',
    ObjectNotFound: '2.0',
    NotAuthorised: '2.0',
    ServerLimitExceeded: '2.0',
    UnknownEnumeration: '2.0',
    UnknownMessageExtension: '2.0',
    UnknownTag: '2.0',
    UnsupportedCryptographicParameters: '2.0',
    UnsupportedProtocolVersion: '2.0',
    WrappingObjectArchived: '2.0',
    WrappingObjectDestroyed: '2.0',
    WrappingObjectNotFound: '2.0',
    WrongKeyLifecycleState: '2.0',
    ProtectionStorageUnavailable: '2.0',
    PKCS_11CodecError: '2.0',
    PKCS_11InvalidFunction: '2.0',
    PKCS_11InvalidInterface: '2.0',
    PrivateProtectionStorageUnavailable: '2.1',
    PublicProtectionStorageUnavailable: '2.1',
    UnknownObjectGroup: '2.1',
    ConstraintViolation: '2.1',
    DuplicateProcessRequest: '2.1',
  },
  ResultStatus: {},
  RevocationReasonCode: {},
  RNGAlgorithm: {
    Unspecified: '1.3',
    FIPS186_2: '1.3',
    DRBG: '1.3',
    NRBG: '1.3',
    ANSIX9_31: '1.3',
    ANSIX9_62: '1.3',
  },
  RNGMode: { Unspecified: '1.3', SharedInstantiation: '1.3', NonSharedInstantiation: '1.3' },
  SecretDataType: {},
  ShreddingAlgorithm: { Unspecified: '1.3', Cryptographic: '1.3', Unsupported: '1.3' },
  SplitKeyMethod: { PolynomialSharingGF2_8: '1.2' },
  State: {},
  StorageStatusMask: { DestroyedStorage: '2.0' },
  TicketType: { Login: '2.0' },
  UniqueIdentifier: {
    IDPlaceholder: '2.0',
    Certify: '2.0',
    Create: '2.0',
    CreateKeyPair: '2.0',
    CreateKeyPairPrivateKey: '2.0',
    CreateKeyPairPublicKey: '2.0',
    CreateSplitKey: '2.0',
    DeriveKey: '2.0',
    Import: '2.0',
    JoinSplitKey: '2.0',
    Locate: '2.0',
    Register: '2.0',
    ReKey: '2.0',
    ReCertify: '2.0',
    ReKeyKeyPair: '2.0',
    RekeyKeyPairPrivateKey: '2.0',
    RekeyKeyPairPublicKey: '2.0',
  },
  UnwrapMode: { Unspecified: '1.3', Processed: '1.3', NotProcessed: '1.3' },
  UsageLimitsUnit: {},
  ValidationAuthorityType: { Unspecified: '1.3', NISTCMVP: '1.3', CommonCriteria: '1.3' },
  ValidationType: { Unspecified: '1.3', Hardware: '1.3', Software: '1.3', Firmware: '1.3', Hybrid: '1.3' },
  ValidityIndicator: {},
  WrappingMethod: {},
};

const RESERVED_IN_2: Readonly<Record<string, readonly string[]>> = {
  // KMIP 2.0 designates every 1.3/1.4 profile name (values below 0x104) (Reserved).
  ProfileName: Object.keys(ProfileName).filter((k) => ProfileName[k as keyof typeof ProfileName] < 0x104),
  CertificateRequestType: ['PGP'],
  CryptographicUsageMask: [
    'GenerateCryptogram',
    'ValidateCryptogram',
    'TranslateEncrypt',
    'TranslateDecrypt',
    'TranslateWrap',
    'TranslateUnwrap',
  ],
  KeyFormatType: [
    'TransparentECDSAPrivateKey',
    'TransparentECDSAPublicKey',
    'TransparentECDHPrivateKey',
    'TransparentECDHPublicKey',
    'TransparentECMQVPrivateKey',
    'TransparentECMQVPublicKey',
  ],
  ObjectType: ['Template'],
};

const TABLES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  AdjustmentType,
  AlternativeNameType,
  AsynchronousIndicator,
  AttestationType,
  BatchErrorContinuationOption,
  BlockCipherMode,
  CancellationResult,
  CertificateRequestType,
  CertificateType,
  ClientRegistrationMethod,
  CredentialType,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  Data,
  DerivationMethod,
  DestroyAction,
  DigitalSignatureAlgorithm,
  DRBGAlgorithm,
  EncodingOption,
  EndpointRole,
  FIPS186Variation,
  HashingAlgorithm,
  InteropFunction,
  ItemType: ItemTypeEnum,
  KeyCompressionType,
  KeyFormatType,
  KeyRoleType,
  KeyValueLocationType,
  KeyWrapType,
  LinkType,
  MaskGenerator,
  NameType,
  NISTKeyType,
  ObjectGroupMember,
  ObjectType,
  OpaqueDataType,
  Operation,
  PaddingMethod,
  PKCS_11Function,
  PKCS_11ReturnCode,
  ProfileName,
  ProtectionLevel,
  ProtectionStorageMask,
  PutFunction,
  QueryFunction,
  RecommendedCurve,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  RNGAlgorithm,
  RNGMode,
  SecretDataType,
  ShreddingAlgorithm,
  SplitKeyMethod,
  State,
  StorageStatusMask,
  TicketType,
  UniqueIdentifier,
  UnwrapMode,
  UsageLimitsUnit,
  ValidationAuthorityType,
  ValidationType,
  ValidityIndicator,
  WrappingMethod,
  ProcessingStage,
  RotateNameType,
};

/** Bit masks: Integer items whose value is an OR of named bits. */
const MASK_NAMES: readonly string[] = [
  'CryptographicUsageMask',
  'StorageStatusMask',
  'ProtectionStorageMask',
];

/** Tags whose Enumeration uses another tag's enumeration. */
const ENUM_ALIASES: Readonly<Partial<Record<TagName, string>>> = {
  MaskGeneratorHashingAlgorithm: 'HashingAlgorithm',
};

function makeDef(name: string): EnumDef {
  const values = TABLES[name];
  if (values === undefined) throw new Error(`enums: no table ${name}`);
  const since: Record<string, string> = {};
  const extra = SINCE[name] ?? {};
  for (const key of Object.keys(values)) since[key] = extra[key] ?? '1.0';
  return Object.freeze({ name, values, since: Object.freeze(since), reservedIn2: RESERVED_IN_2[name] ?? [] });
}

const DEFS: ReadonlyMap<string, EnumDef> = new Map(Object.keys(TABLES).map((n) => [n, makeDef(n)]));

const NAMES_BY_DEF: ReadonlyMap<EnumDef, ReadonlyMap<number, string>> = new Map(
  [...DEFS.values()].map((d) => [d, new Map(Object.entries(d.values).map(([k, v]) => [v, k]))]),
);

function tagNumber(name: string): number | undefined {
  return Object.hasOwn(Tag, name) ? Tag[name as TagName] : undefined;
}

const ENUM_BY_TAG: ReadonlyMap<number, EnumDef> = new Map(
  [
    ...[...DEFS.keys()].filter((n) => !MASK_NAMES.includes(n)).map((n) => [n, n] as const),
    ...(Object.entries(ENUM_ALIASES) as [string, string][]),
  ].flatMap(([tag, def]) => {
    const number = tagNumber(tag);
    const d = DEFS.get(def);
    return number === undefined || d === undefined ? [] : [[number, d] as const];
  }),
);

const MASK_BY_TAG: ReadonlyMap<number, EnumDef> = new Map(
  MASK_NAMES.flatMap((n) => {
    const number = tagNumber(n);
    const d = DEFS.get(n);
    return number === undefined || d === undefined ? [] : [[number, d] as const];
  }),
);

/** Every enumeration and mask by name (e.g. 'ObjectType', 'CryptographicUsageMask'). */
export function enumDef(name: string): EnumDef | undefined {
  return DEFS.get(name);
}

/** The enumeration an Enumeration item with this tag uses, if known. */
export function enumForTag(tag: number): EnumDef | undefined {
  return ENUM_BY_TAG.get(tag);
}

/** The bit mask an Integer item with this tag carries, if it is a mask. */
export function maskForTag(tag: number): EnumDef | undefined {
  return MASK_BY_TAG.get(tag);
}

/** The name of a value in an enumeration, or undefined. */
export function enumValueName(def: EnumDef, value: number): string | undefined {
  return NAMES_BY_DEF.get(def)?.get(value);
}

/** The names of the bits set in a mask value, plus the leftover bits (0 when every bit is named). */
export function maskNames(def: EnumDef, value: number): { names: string[]; rest: number } {
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [name, bit] of Object.entries(def.values)) {
    if ((rest & bit) === bit && bit !== 0) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  return { names, rest };
}
