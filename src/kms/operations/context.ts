import type { TtlvItem } from '../../kmip/index.js';
import type { Identity } from '../identity.js';
import type { ProtocolVersion } from '../lifecycle.js';
import type { ObjectRepo } from '../repo.js';

/** What the service tells Query about itself. */
export interface ServerInfo {
  readonly vendor: string;
  readonly product: string;
  readonly version: string;
  /** Protocol versions the server speaks, newest first. */
  readonly versions: readonly ProtocolVersion[];
}

/** The state one batch item runs with. */
export interface OpContext {
  readonly version: ProtocolVersion;
  readonly identity: Identity;
  /** Seconds since the epoch, the request's time. */
  readonly now: bigint;
  readonly repo: ObjectRepo;
  readonly server: ServerInfo;
  /** The ID Placeholder: the id the previous item of the batch produced. */
  idPlaceholder: string | undefined;
  /** The object the item acted on, for the audit record. */
  objectId?: string;
}

/** One KMIP operation: request payload → response payload children. Throws KmipError to fail. */
export interface Operation {
  readonly name: string;
  /** Whether the audit record must be durable before the response (Create, Register, ReKey, Revoke, Destroy). */
  readonly durableAudit: boolean;
  /**
   * Its one store write is its last step that can fail, so its Success record is committed in the
   * same transaction as that write (no separate audit commit before the response).
   */
  readonly auditWithWrite?: boolean;
  run(payload: TtlvItem, ctx: OpContext): Promise<TtlvItem[]>;
}
