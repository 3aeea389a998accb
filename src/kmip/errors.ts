/**
 * Errors of the KMIP library: one code per KMIP Result Reason (KMIP 1.0–1.4 §9.1.3.2.29 and 2.0–2.1
 * §11.46), so the KMS answers with the right one, plus `message_too_large` (a request over the
 * configured limit, answered as Invalid Message). The table below is the only place that maps a code
 * to its Result Reason and error kind; it is applied at the edge (the KMS response, the CLI exit code).
 * Messages name tags and positions, never values: they cannot carry key material.
 */
import { CryptvisorError, type ErrorKind } from '../common/errors.js';
import { ResultReason } from './enums.js';

type ReasonName = keyof typeof ResultReason;

interface CodeInfo {
  readonly reason: ReasonName;
  readonly kind: ErrorKind;
}

/** Code → Result Reason and error kind. */
export const KMIP_ERROR_CODES = Object.freeze({
  item_not_found: { reason: 'ItemNotFound', kind: 'not_found' },
  response_too_large: { reason: 'ResponseTooLarge', kind: 'failed' },
  authentication_not_successful: { reason: 'AuthenticationNotSuccessful', kind: 'denied' },
  invalid_message: { reason: 'InvalidMessage', kind: 'invalid' },
  operation_not_supported: { reason: 'OperationNotSupported', kind: 'unsupported' },
  missing_data: { reason: 'MissingData', kind: 'invalid' },
  invalid_field: { reason: 'InvalidField', kind: 'invalid' },
  feature_not_supported: { reason: 'FeatureNotSupported', kind: 'unsupported' },
  operation_canceled_by_requester: { reason: 'OperationCanceledByRequester', kind: 'failed' },
  cryptographic_failure: { reason: 'CryptographicFailure', kind: 'failed' },
  illegal_operation: { reason: 'IllegalOperation', kind: 'conflict' },
  permission_denied: { reason: 'PermissionDenied', kind: 'denied' },
  object_archived: { reason: 'ObjectArchived', kind: 'conflict' },
  index_out_of_bounds: { reason: 'IndexOutOfBounds', kind: 'invalid' },
  application_namespace_not_supported: { reason: 'ApplicationNamespaceNotSupported', kind: 'unsupported' },
  key_format_type_not_supported: { reason: 'KeyFormatTypeNotSupported', kind: 'unsupported' },
  key_compression_type_not_supported: { reason: 'KeyCompressionTypeNotSupported', kind: 'unsupported' },
  encoding_option_error: { reason: 'EncodingOptionError', kind: 'invalid' },
  key_value_not_present: { reason: 'KeyValueNotPresent', kind: 'invalid' },
  attestation_required: { reason: 'AttestationRequired', kind: 'denied' },
  attestation_failed: { reason: 'AttestationFailed', kind: 'denied' },
  sensitive: { reason: 'Sensitive', kind: 'denied' },
  not_extractable: { reason: 'NotExtractable', kind: 'denied' },
  object_already_exists: { reason: 'ObjectAlreadyExists', kind: 'conflict' },
  general_failure: { reason: 'GeneralFailure', kind: 'failed' },
  invalid_ticket: { reason: 'InvalidTicket', kind: 'denied' },
  usage_limit_exceeded: { reason: 'UsageLimitExceeded', kind: 'denied' },
  numeric_range: { reason: 'NumericRange', kind: 'invalid' },
  invalid_data_type: { reason: 'InvalidDataType', kind: 'invalid' },
  read_only_attribute: { reason: 'ReadOnlyAttribute', kind: 'invalid' },
  multi_valued_attribute: { reason: 'MultiValuedAttribute', kind: 'invalid' },
  unsupported_attribute: { reason: 'UnsupportedAttribute', kind: 'unsupported' },
  attribute_instance_not_found: { reason: 'AttributeInstanceNotFound', kind: 'not_found' },
  attribute_not_found: { reason: 'AttributeNotFound', kind: 'not_found' },
  attribute_read_only: { reason: 'AttributeReadOnly', kind: 'invalid' },
  attribute_single_valued: { reason: 'AttributeSingleValued', kind: 'invalid' },
  bad_cryptographic_parameters: { reason: 'BadCryptographicParameters', kind: 'invalid' },
  bad_password: { reason: 'BadPassword', kind: 'denied' },
  codec_error: { reason: 'CodecError', kind: 'failed' },
  illegal_object_type: { reason: 'IllegalObjectType', kind: 'invalid' },
  incompatible_cryptographic_usage_mask: { reason: 'IncompatibleCryptographicUsageMask', kind: 'invalid' },
  internal_server_error: { reason: 'InternalServerError', kind: 'failed' },
  invalid_asynchronous_correlation_value: { reason: 'InvalidAsynchronousCorrelationValue', kind: 'invalid' },
  invalid_attribute: { reason: 'InvalidAttribute', kind: 'invalid' },
  invalid_attribute_value: { reason: 'InvalidAttributeValue', kind: 'invalid' },
  invalid_correlation_value: { reason: 'InvalidCorrelationValue', kind: 'invalid' },
  invalid_csr: { reason: 'InvalidCSR', kind: 'invalid' },
  invalid_object_type: { reason: 'InvalidObjectType', kind: 'invalid' },
  key_wrap_type_not_supported: { reason: 'KeyWrapTypeNotSupported', kind: 'unsupported' },
  missing_initialization_vector: { reason: 'MissingInitializationVector', kind: 'invalid' },
  non_unique_name_attribute: { reason: 'NonUniqueNameAttribute', kind: 'conflict' },
  object_destroyed: { reason: 'ObjectDestroyed', kind: 'conflict' },
  object_not_found: { reason: 'ObjectNotFound', kind: 'not_found' },
  not_authorised: { reason: 'NotAuthorised', kind: 'denied' },
  server_limit_exceeded: { reason: 'ServerLimitExceeded', kind: 'unavailable' },
  unknown_enumeration: { reason: 'UnknownEnumeration', kind: 'invalid' },
  unknown_message_extension: { reason: 'UnknownMessageExtension', kind: 'invalid' },
  unknown_tag: { reason: 'UnknownTag', kind: 'invalid' },
  unsupported_cryptographic_parameters: { reason: 'UnsupportedCryptographicParameters', kind: 'unsupported' },
  unsupported_protocol_version: { reason: 'UnsupportedProtocolVersion', kind: 'unsupported' },
  wrapping_object_archived: { reason: 'WrappingObjectArchived', kind: 'conflict' },
  wrapping_object_destroyed: { reason: 'WrappingObjectDestroyed', kind: 'conflict' },
  wrapping_object_not_found: { reason: 'WrappingObjectNotFound', kind: 'not_found' },
  wrong_key_lifecycle_state: { reason: 'WrongKeyLifecycleState', kind: 'conflict' },
  protection_storage_unavailable: { reason: 'ProtectionStorageUnavailable', kind: 'unavailable' },
  pkcs11_codec_error: { reason: 'PKCS_11CodecError', kind: 'failed' },
  pkcs11_invalid_function: { reason: 'PKCS_11InvalidFunction', kind: 'invalid' },
  pkcs11_invalid_interface: { reason: 'PKCS_11InvalidInterface', kind: 'invalid' },
  private_protection_storage_unavailable: {
    reason: 'PrivateProtectionStorageUnavailable',
    kind: 'unavailable',
  },
  public_protection_storage_unavailable: {
    reason: 'PublicProtectionStorageUnavailable',
    kind: 'unavailable',
  },
  unknown_object_group: { reason: 'UnknownObjectGroup', kind: 'not_found' },
  constraint_violation: { reason: 'ConstraintViolation', kind: 'invalid' },
  duplicate_process_request: { reason: 'DuplicateProcessRequest', kind: 'conflict' },
  message_too_large: { reason: 'InvalidMessage', kind: 'invalid' },
} as const satisfies Record<string, CodeInfo>);

export type KmipErrorCode = keyof typeof KMIP_ERROR_CODES;

export class KmipError extends CryptvisorError {
  declare readonly code: KmipErrorCode;

  constructor(code: KmipErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, KMIP_ERROR_CODES[code].kind, message, options);
  }

  /** The numeric KMIP Result Reason this error answers with. */
  get resultReason(): number {
    return ResultReason[KMIP_ERROR_CODES[this.code].reason];
  }
}

/** The Result Reason for any thrown value: a KmipError's own, General Failure for anything else. */
export function resultReasonOf(err: unknown): number {
  if (err instanceof KmipError) return err.resultReason;
  return ResultReason.GeneralFailure;
}

/** Whether a value is a KmipError with the given code. */
export function isKmipError(err: unknown, code?: KmipErrorCode): err is KmipError {
  return err instanceof KmipError && (code === undefined || err.code === code);
}
