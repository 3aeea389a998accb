import { isCustomName } from './attribute-io.js';

/**
 * Which attributes a client may set, and how many instances each may have (KMIP 1.4 §3 and 2.1
 * §4 attribute rules tables, summarized).
 */

/** Set only by the server; a client's Add/Modify/Delete of these is refused. */
export const SERVER_MANAGED: ReadonlySet<string> = new Set([
  'UniqueIdentifier',
  'ShortUniqueIdentifier',
  'KeyFormatType',
  'ObjectType',
  'State',
  'InitialDate',
  'LastChangeDate',
  'DestroyDate',
  'CompromiseDate',
  'CompromiseOccurrenceDate',
  'ArchiveDate',
  'Digest',
  'RevocationReason',
  'KeyValuePresent',
  'OriginalCreationDate',
  'AlwaysSensitive',
  'NeverExtractable',
  'Fresh',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'CertificateType',
  'CertificateLength',
  'DigitalSignatureAlgorithm',
  'RandomNumberGenerator',
]);

/** Settable by a client at Create/Register time even though later read-only. */
export const SETTABLE_AT_CREATION: ReadonlySet<string> = new Set([
  'CryptographicAlgorithm',
  'CryptographicLength',
  'CertificateType',
  'CertificateLength',
  'DigitalSignatureAlgorithm',
  'RandomNumberGenerator',
  'OriginalCreationDate',
  'Fresh',
]);

/** Date attributes a client may set within the lifecycle rules (lifecycle.maySetDate). */
export const CLIENT_DATES: ReadonlyMap<string, 'activationDate' | 'deactivationDate' | 'processStartDate' | 'protectStopDate'> = new Map([
  ['ActivationDate', 'activationDate'],
  ['DeactivationDate', 'deactivationDate'],
  ['ProcessStartDate', 'processStartDate'],
  ['ProtectStopDate', 'protectStopDate'],
]);

const MULTI_VALUED: ReadonlySet<string> = new Set([
  'Name',
  'Link',
  'ApplicationSpecificInformation',
  'ObjectGroup',
  'AlternativeName',
  'CertificateIdentifier',
  'CertificateSubject',
  'CertificateIssuer',
  'X_509CertificateIdentifier',
  'CryptographicParameters',
  'CryptographicDomainParameters',
  'Digest',
  'KeyValueLocation',
]);

export function isMultiValued(name: string): boolean {
  return MULTI_VALUED.has(name) || isCustomName(name);
}
