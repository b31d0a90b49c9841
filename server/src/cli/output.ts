import type { CliBackup, CliCheck, CliImportReport, CliJob, CliPreview, CliPurge } from './types';

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
  // The off-site column once there is an off-site copy to speak of.
  const offsite = backups.some((b) => b.offsite);
  const rows = table(
    ['id', 'name', 'created', 'kind', 'size', 'encrypted', 'verified', ...(offsite ? ['off-site'] : [])],
    backups.map((b) => [
      b.id,
      b.status === 'damaged' ? `DAMAGED: ${b.error ?? 'unreadable'}` : b.status === 'warning' ? `${b.name} (completed with warnings)` : b.name,
      formatDate(b.createdAt),
      b.kind,
      formatBytes(b.size),
      b.encrypted ? 'yes' : 'no',
      b.verifiedAt ? formatDate(b.verifiedAt) : 'no',
      ...(offsite ? [b.offsite ? b.offsite.status : '-'] : []),
    ])
  );
  return rows;
};

/** The archives off-site (a bucket or a folder). */
export const offsiteTable = (objects: Array<{ id: string; size: number; modifiedAt: string; deduplicated: boolean }>): string => {
  if (!objects.length) return 'The off-site storage holds no backups.';
  return table(
    ['id', 'size', 'copied', 'form'],
    objects.map((o) => [o.id, formatBytes(o.size), formatDate(o.modifiedAt), o.deduplicated ? 'deduplicated' : 'archive'])
  );
};

/** The repository check's report (its `check` result). */
export const describeOffsiteCheck = (check: {
  backups: number;
  objects: number;
  storedBytes: number;
  logicalBytes: number;
  sampled: { objects: number; bytes: number };
  damaged: Array<{ name: string; reason: string }>;
  affected: string[];
}): string => {
  const ratio = check.logicalBytes ? ` (${((check.storedBytes / check.logicalBytes) * 100).toFixed(1)} % of the archives' ${formatBytes(check.logicalBytes)})` : '';
  const lines = [
    `Off-site: ${check.backups} backups in ${check.objects} objects, ${formatBytes(check.storedBytes)} stored${ratio}.`,
    `Read whole and checked: ${check.sampled.objects} objects (${formatBytes(check.sampled.bytes)}).`,
  ];
  if (!check.damaged.length) {
    lines.push('Every index reads, every object they name is there, and the sample matches its SHA-256.');
    return lines.join('\n');
  }
  lines.push(`DAMAGED: ${check.damaged.length}`, table(['object', 'what is wrong'], check.damaged.map((d) => [d.name, d.reason])));
  lines.push(`Backups whose off-site copy would not come back: ${check.affected.join(', ') || 'none'}`);
  return lines.join('\n');
};

/** What a purge deleted, or would delete (dry run), here and off-site. */
export const describePurge = (purge: CliPurge): string => {
  const verb = purge.dryRun ? 'Would delete' : 'Deleted';
  const lines = [
    purge.removed.length
      ? `${verb} ${purge.removed.length} ${purge.removed.length === 1 ? 'backup' : 'backups'} (${formatBytes(purge.removed.reduce((n, b) => n + b.size, 0))}):\n` +
        table(['id', 'name', 'size', 'why'], purge.removed.map((b) => [b.id, b.name, formatBytes(b.size), b.reasons.join(', ')]))
      : `${purge.dryRun ? 'Would delete' : 'Deleted'} no backup: the retention policy keeps all ${purge.kept.length}.`,
  ];
  if (purge.removed.length) lines.push(`Kept: ${purge.kept.length}.`);
  if (purge.temporary.length) lines.push(`Removed ${purge.temporary.length} temporary files of interrupted backups.`);
  const offsite = purge.offsite;
  if (offsite?.error) lines.push(`Off-site: the collection failed: ${offsite.error}`);
  else if (offsite?.skipped) lines.push(`Off-site: nothing collected: ${offsite.skipped}.`);
  else if (offsite) {
    lines.push(
      `Off-site: ${purge.dryRun ? 'would delete' : 'deleted'} ${offsite.objects} objects no backup uses (${formatBytes(offsite.bytes)}); ` +
        `stored ${formatBytes(offsite.storedBeforeBytes)} before, ${formatBytes(offsite.storedAfterBytes)} after.`
    );
  }
  return lines.join('\n');
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

/** The checks of an import's preview, one a line: "ok    structure  …" / "FAIL  key  …". */
export const describeChecks = (checks: CliCheck[]): string =>
  checks.map((check) => `${check.ok ? 'ok  ' : 'FAIL'}  ${check.id.padEnd(13)} ${check.message}`).join('\n');

const STATES = ['create', 'update', 'unchanged', 'conflict', 'absent'] as const;

/** The preview: checks, schema differences, mode, the per-type table, dangling relations, media. */
export const describePreview = (preview: CliPreview): string => {
  const lines = [`Preview ${preview.id} of ${preview.source.name}${preview.source.encrypted ? ' (encrypted)' : ''}`, '', 'Checks:', describeChecks(preview.checks)];
  const different = preview.compatibility.filter((c) => c.status !== 'compatible');
  if (different.length) {
    lines.push('', 'Schema differences:');
    for (const entry of different) {
      const what =
        entry.status === 'missing'
          ? 'not a content type of this app'
          : entry.differences
              .map((d) => (d.kind === 'archive-only' ? `${d.attribute} only in the archive` : d.kind === 'here-only' ? `${d.attribute} only here` : `${d.attribute} is ${d.archiveType} in the archive, ${d.hereType} here`))
              .join('; ');
      lines.push(`  ${entry.uid}: ${what}${entry.skipped ? ' (left out)' : ''}`);
    }
  }
  lines.push('', `Mode: ${preview.mode} (${preview.modeReason})`, '');
  if (preview.types.length) {
    lines.push(
      table(
        ['content type', ...STATES],
        preview.types.map((type) => [`${type.uid}${type.matchBy ? ` (by ${type.matchBy})` : ''}`, ...STATES.map((state) => String(type.counts[state]))])
      )
    );
  } else {
    lines.push('No content type to import.');
  }
  const absent = preview.types.reduce((n, t) => n + t.counts.absent, 0);
  if (absent) lines.push(preview.mirror ? `${absent} documents here and not in the archive will be deleted (--mirror).` : `${absent} documents here and not in the archive stay as they are.`);
  if (preview.dangling.length) {
    lines.push('', `${preview.dangling.length} relations point to documents neither side has (dropped and reported by the import unless --dangling stop):`);
    for (const d of preview.dangling.slice(0, 20)) lines.push(`  ${d.uid} ${d.documentId}${d.locale ? ` (${d.locale})` : ''} ${d.field} → ${d.targetUid} ${d.targetDocumentId}`);
    if (preview.dangling.length > 20) lines.push(`  … and ${preview.dangling.length - 20} more (--json lists them all)`);
  }
  lines.push('', `Media: ${preview.media.reused} files already here (reused), ${preview.media.added} to add.`);
  return lines.join('\n');
};

/** The report of an import, with the command that undoes it. */
export const describeImport = (report: CliImportReport, app: string): string => {
  const lines = [`Import done (${report.mode}) in ${(report.durationMs / 1000).toFixed(1)} s.`, ''];
  lines.push(
    table(
      ['content type', 'created', 'updated', 'unchanged', 'skipped', 'deleted', 'conflicts'],
      report.types.map((t) => [t.uid, ...[t.created, t.updated, t.unchanged, t.skipped, t.deleted, t.conflicts].map(String)])
    )
  );
  if (report.conflicts.length) {
    const byPolicy = new Map<string, number>();
    for (const c of report.conflicts) byPolicy.set(c.policy, (byPolicy.get(c.policy) ?? 0) + 1);
    lines.push('', `${report.conflicts.length} conflicts resolved: ${[...byPolicy].map(([policy, n]) => `${n} ${policy}`).join(', ')}.`);
  }
  if (report.dangling.length) {
    lines.push('', `${report.dangling.length} links to documents neither side has were dropped:`);
    for (const d of report.dangling.slice(0, 20)) lines.push(`  ${d.uid} ${d.documentId}${d.locale ? ` (${d.locale})` : ''} ${d.field} → ${d.targetUid} ${d.targetDocumentId}`);
    if (report.dangling.length > 20) lines.push(`  … and ${report.dangling.length - 20} more (--json lists them all)`);
  }
  lines.push(`Media: ${report.media.reused} files reused, ${report.media.added} added.`);
  if (report.remapped) lines.push(`${report.remapped} rows got a new id (theirs is taken here).`);
  lines.push('', `The data as it was before is in the safety backup ${report.safetyBackupId}. To undo this import:`, `  ${undoCommand(report, app)}`);
  return lines.join('\n');
};

/** `pacta-backup restore <safety> --app DIR --content-types … [--no-media] --yes`. */
export const undoCommand = (report: Pick<CliImportReport, 'safetyBackupId' | 'undo'>, app: string): string => {
  const quote = (value: string) => (/^[A-Za-z0-9_./:,=@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
  return [
    'pacta-backup restore',
    report.safetyBackupId,
    '--app',
    quote(app),
    ...(report.undo.contentTypes.length ? ['--content-types', quote(report.undo.contentTypes.join(','))] : []),
    ...(report.undo.media ? [] : ['--no-media']),
    '--yes',
  ].join(' ');
};
