import {
  ProfileName,
  QueryFunction,
  Tag,
  asEnum,
  bool,
  children,
  enumItem,
  struct,
  text,
  type TtlvItem,
} from '../../kmip/index.js';
import { RNG_PARAMETERS } from '../algorithms.js';
import { enumValue } from '../kmip-values.js';
import type { OpContext, Operation } from './context.js';

/** The object types the KMS stores. */
const OBJECT_TYPES = ['SymmetricKey', 'SecretData', 'OpaqueObject', 'PublicKey', 'PrivateKey', 'Certificate'] as const;

/** The server profiles the KMS claims (KMIP Profiles 1.x / 2.x), matched against the enum table. */
const PROFILE_PATTERNS = [/^BaselineServer/, /^SymmetricKeyLifecycleServer/, /^SymmetricKeyFoundryServer/, /^OpaqueManagedObjectStoreServer/i];

function profiles(): TtlvItem[] {
  return Object.entries(ProfileName)
    .filter(([name]) => PROFILE_PATTERNS.some((p) => p.test(name)))
    .map(([, v]) => struct(Tag.ProfileInformation, [enumItem(Tag.ProfileName, v)]));
}

function answer(fn: number, ctx: OpContext, operations: readonly string[]): TtlvItem[] {
  switch (fn) {
    case QueryFunction.QueryOperations:
      return operations.flatMap((n) => {
        const v = enumValue(Tag.Operation, n);
        return v === undefined ? [] : [enumItem(Tag.Operation, v)];
      });
    case QueryFunction.QueryObjects:
      return OBJECT_TYPES.map((t) => enumItem(Tag.ObjectType, enumValue(Tag.ObjectType, t) ?? 0));
    case QueryFunction.QueryServerInformation:
      return [
        text(Tag.VendorIdentification, `${ctx.server.vendor} ${ctx.server.product} ${ctx.server.version}`),
        struct(Tag.ServerInformation, []),
      ];
    case QueryFunction.QueryProfiles:
      return profiles();
    case QueryFunction.QueryRNGs:
      return [struct(Tag.RNGParameters, RNG_PARAMETERS.value)];
    case QueryFunction.QueryCapabilities:
      return [
        struct(Tag.CapabilityInformation, [
          bool(Tag.StreamingCapability, false),
          bool(Tag.AsynchronousCapability, false),
          bool(Tag.AttestationCapability, false),
          bool(Tag.BatchUndoCapability, true),
          bool(Tag.BatchContinueCapability, true),
          enumItem(Tag.UnwrapMode, 1),
          enumItem(Tag.DestroyAction, 1),
          enumItem(Tag.ShreddingAlgorithm, 1),
          enumItem(Tag.RNGMode, 1),
        ]),
      ];
    case QueryFunction.QueryClientRegistrationMethods:
      return ['ServerPreGenerated', 'ServerOnDemand', 'ClientGenerated', 'ClientRegistered'].flatMap((m) => {
        const v = enumValue(Tag.ClientRegistrationMethod, m);
        return v === undefined ? [] : [enumItem(Tag.ClientRegistrationMethod, v)];
      });
    // Application namespaces, attestation types, validations, extensions: the KMS has none.
    default:
      return [];
  }
}

/** Query: answers each asked Query Function, in the order asked. */
export function makeQuery(operations: () => readonly string[]): Operation {
  return {
    name: 'Query',
    durableAudit: false,
    async run(payload, ctx) {
      return children(payload, Tag.QueryFunction).flatMap((f) => answer(asEnum(f), ctx, operations()));
    },
  };
}
