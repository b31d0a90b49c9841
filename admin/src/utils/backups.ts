import type { Backup } from '../../../server/src/contracts/backups';

/**
 * An encrypted backup this app's key does not open (another instance's key): listed in place of
 * its content with the reason "Locked: …". It is not damaged: the import opens it with its passphrase.
 */
export const isLocked = (backup: Backup) => backup.locked === true;

/** A backup an import can read: intact, or locked (the wizard asks for the passphrase). */
export const isImportable = (backup: Backup) => backup.status !== 'damaged' || isLocked(backup);
