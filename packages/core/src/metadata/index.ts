export {
  type AuthenticatorStatus,
  type MetadataBlob,
  MetadataBlobError,
  type MetadataBlobErrorReason,
  type MetadataEntry,
  type StatusReport,
  verifyMetadataBlob,
} from './blob.js';
export { FIDO_MDS_ROOT_PEM } from './fido-root.js';
export {
  CERTIFICATION_LEVELS,
  type CertificationLevel,
  REFUSED_STATUSES,
  type RegisteringAccount,
  type TrustOptions,
} from './policy.js';
export { MetadataService, type MetadataServiceOptions, type MetadataSource } from './service.js';
