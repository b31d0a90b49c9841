import type { CliBackup, CliJob } from './types';

/** 1536 → "1.5 KB". */
export const formatBytes = (bytes: number): string => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
};

/** "2026-05-01T10:20:30.000Z" → "2026-05-01 10:20" (UTC, as stored). */
export const formatDate = (iso: string | null): string => (iso ? iso.slice(0, 16).replace('T', ' ') : '');

/** Left-aligned columns separated by two spaces. */
export const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};

export const backupsTable = (backups: CliBackup[]): string => {
  if (!backups.length) return 'No backups yet.';
  return table(
    ['id', 'name', 'created', 'kind', 'size', 'encrypted', 'verified'],
    backups.map((b) => [
      b.id,
      b.status === 'damaged' ? `DAMAGED: ${b.error ?? 'unreadable'}` : b.status === 'warning' ? `${b.name} (completed with warnings)` : b.name,
      formatDate(b.createdAt),
      b.kind,
      formatBytes(b.size),
      b.encrypted ? 'yes' : 'no',
      b.verifiedAt ? formatDate(b.verifiedAt) : 'no',
    ])
  );
};

const BAR = 24;

/** One line of progress: "restore  [##########--------------]  42%  120/286". */
export const progressLine = (job: Pick<CliJob, 'phase' | 'progress'>, columns = 80): string => {
  const { done, total, bytes } = job.progress;
  let text: string;
  if (total > 0) {
    const ratio = Math.min(1, Math.max(0, done / total));
    const filled = Math.round(ratio * BAR);
    text = `${job.phase.padEnd(14)} [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${done}/${total}`;
  } else {
    text = `${job.phase.padEnd(14)} ...`;
  }
  if (bytes > 0) text += `  ${formatBytes(bytes)}`;
  return text.slice(0, Math.max(10, columns - 1));
};

const get = (value: unknown, key: string): unknown =>
  value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

/** The human summary of a finished job's result. */
export const describeBackup = (backup: CliBackup): string =>
  `Backup ${backup.id} ${backup.status === 'warning' ? 'completed with warnings' : 'written'}: "${backup.name}", ${backup.rows} rows, ` +
  `${backup.media.files} media files, ${formatBytes(backup.size)}${backup.encrypted ? ', encrypted' : ''}.` +
  (backup.status === 'warning' ? `\n${(backup.warnings ?? []).map((w) => `Warning: ${w}`).join('\n')}` : '');

export const describeVerify = (id: string, result: Record<string, unknown>): string => {
  const manifest = get(result, 'manifest');
  return (
    `Backup ${id} is intact: ${get(result, 'entries')} entries match their checksums ` +
    `(${get(manifest, 'rows')} rows, ${get(manifest, 'files')} media files).`
  );
};

export const describeRestore = (id: string, result: Record<string, unknown>): string => {
  const lines = [`Backup ${id} restored.`];
  const contentTypes = get(result, 'contentTypes');
  if (Array.isArray(contentTypes) && contentTypes.length) {
    lines.push(table(['content type', 'rows'], contentTypes.map((ct) => [String(get(ct, 'uid')), String(get(ct, 'rows'))])));
  }
  const tables = get(result, 'tables');
  if (Array.isArray(tables)) lines.push(`${tables.length} tables restored.`);
  const files = get(get(result, 'media'), 'files');
  if (typeof files === 'number') lines.push(`${files} media files restored.`);
  const removed = get(get(result, 'media'), 'removed');
  if (typeof removed === 'number' && removed) lines.push(`${removed} files the backup does not have were removed from the uploads folder (they are in the safety backup).`);
  const links = get(result, 'links');
  if (Array.isArray(links)) {
    for (const link of links) {
      const count = Number(get(link, 'dropped') ?? 0) + Number(get(link, 'nulled') ?? 0);
      lines.push(`${count} links of ${String(get(link, 'from'))} to ${String(get(link, 'to'))} removed (${String(get(link, 'table'))}.${String(get(link, 'column'))}): what they pointed at is not in the database after the restore.`);
    }
  }
  const skipped = get(result, 'skipped');
  if (Array.isArray(skipped) && skipped.length) lines.push(`Skipped: ${skipped.map((s) => (typeof s === 'string' ? s : JSON.stringify(s))).join(', ')}.`);
  const safety = get(result, 'safetyBackupId');
  if (safety) lines.push(`The data as it was before is in the safety backup ${safety} (pacta-backup restore ${safety} undoes this restore).`);
  if (get(result, 'adminSessionsEnded')) lines.push('Admin accounts were restored: every admin logs in again.');
  return lines.join('\n');
};
