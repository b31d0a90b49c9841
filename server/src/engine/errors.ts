/**
 * The engine's failures, each with a code the API and the CLI report as they are. The
 * services turn them into Strapi's ValidationError (bad input) or ApplicationError.
 */
export type EngineErrorCode =
  | 'NOT_AN_ARCHIVE'
  | 'BAD_MANIFEST'
  | 'UNSAFE_PATH'
  | 'CHECKSUM'
  | 'MISSING_ENTRY'
  | 'NO_KEY'
  | 'WRONG_KEY'
  | 'TAMPERED'
  | 'TRUNCATED'
  | 'TOO_LARGE'
  | 'BAD_ENTRY'
  | 'BAD_ROWS'
  | 'SCHEMA_MISMATCH'
  | 'NO_SPACE'
  | 'MEDIA_MISSING'
  /** A media file's bytes changed while it was backed up (or behind an unchanged size and modification time). */
  | 'MEDIA_CHANGED'
  | 'INVALID_SCOPE'
  | 'RESTORE_FAILED'
  /** Admin or config tables asked of an archive not sealed under this app's key. */
  | 'UNAUTHENTICATED'
  | 'DRILL_UNAVAILABLE'
  /** Import: what the preview saw here changed before the apply. */
  | 'STALE_PREVIEW'
  /** Import: a relation points at a document neither side has, and the user chose to stop. */
  | 'DANGLING_RELATION'
  /** Import: the source is not an archive nor a JSON export, or holds nothing to import. */
  | 'BAD_SOURCE'
  /** The off-site backend (bucket or folder) refused or failed a request (credentials, network, a copy that does not match). */
  | 'OFFSITE_FAILED'
  /** The off-site backend has no such archive. */
  | 'NOT_FOUND';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: EngineErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.details = details;
  }
}
