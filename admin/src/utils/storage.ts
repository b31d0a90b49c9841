import type { StorageInfo } from '../../../server/src/contracts/backups';

/** The alert threshold (spaceAlertBelow: bytes, or "N%" of the volume) in bytes of this storage. */
export const thresholdBytes = (storage: Pick<StorageInfo, 'total'>, spaceAlertBelow: number | string) =>
  typeof spaceAlertBelow === 'number' ? spaceAlertBelow : (storage.total * Number.parseFloat(String(spaceAlertBelow))) / 100;

/**
 * How full the storage is, against the configured threshold: danger when the free space is below
 * it (the low-space alert is raised), warning within twice it, success otherwise.
 */
export const storageTone = (storage: Pick<StorageInfo, 'free' | 'total'>, spaceAlertBelow: number | string): 'success' | 'warning' | 'danger' => {
  const threshold = thresholdBytes(storage, spaceAlertBelow);
  if (!Number.isFinite(threshold)) return 'success';
  if (storage.free < threshold) return 'danger';
  if (storage.free < threshold * 2) return 'warning';
  return 'success';
};

/** Used space as a whole percentage of the volume (0 when its size is unknown). */
export const usedPercent = (storage: Pick<StorageInfo, 'free' | 'total'>) =>
  storage.total ? Math.round(((storage.total - storage.free) / storage.total) * 100) : 0;
