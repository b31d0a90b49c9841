import { useCallback, useEffect, useState } from 'react';

import { Box, Button, Field, Flex, TextInput, Typography } from '@strapi/design-system';
import { ArrowLeft, ArrowRight } from '@strapi/icons';
import { Layouts, Page, useFetchClient } from '@strapi/strapi/admin';
import { useSearchParams } from 'react-router-dom';

import type { Job } from '../../../server/src/contracts/backups';
import type { ApplyBody, ImportPreview, ImportReport, PreviewBody, PreviewDocument, PreviewJobResult } from '../../../server/src/contracts/imports';
import { JobProgress } from '../components/JobProgress';
import { BackLink, Section } from '../components/Section';
import { ConfirmStep } from '../components/import/ConfirmStep';
import { ConflictsStep } from '../components/import/ConflictsStep';
import { PreviewStep } from '../components/import/PreviewStep';
import { ReportStep } from '../components/import/ReportStep';
import { type Choices, countUnresolved, ErrorNote, type KnownConflicts, type PreviewOptions, type Step, Stepper } from '../components/import/shared';
import { type Source, SourceStep } from '../components/import/SourceStep';
import { ValidationStep } from '../components/import/ValidationStep';
import { useBackups } from '../hooks/useBackups';
import { useJob } from '../hooks/useJob';
import { useT } from '../hooks/useT';
import { useUpload } from '../hooks/useUpload';
import { PLUGIN_ID } from '../pluginId';
import { apiError } from '../utils/errors';

const emptyChoices: Choices = { policies: {}, documents: {}, fields: {}, dangling: 'drop' };

const sourceKey = (source: Source | null, options: PreviewOptions) =>
  source ? JSON.stringify([source.kind === 'backup' ? source.backupId : source.upload.uploadId, options]) : '';

/**
 * The import wizard: source → validation → preview → conflicts → confirm → progress → report.
 * Every choice lives here, so going back and forth keeps it. The passphrase of an encrypted
 * archive is sent with the request that needs it and kept nowhere: the preview asks for it when
 * the archive does not open (WRONG_KEY, NO_KEY), the confirmation asks for it again for the apply.
 */
export const ImportPage = () => {
  const t = useT();
  const { get, post } = useFetchClient();
  const [params] = useSearchParams();
  const { backups, names } = useBackups();
  const upload = useUpload();

  const [step, setStep] = useState<Step>('source');
  const initial = params.get('backup');
  const [source, setSource] = useState<Source | null>(initial ? { kind: 'backup', backupId: initial } : null);
  const [options, setOptions] = useState<PreviewOptions>({ skipIncompatible: false, mirror: false, match: {} });
  // The archive needed a passphrase to open: the apply needs it again (typed on the confirm step).
  const [keyNeeded, setKeyNeeded] = useState(false);
  const [applyPassphrase, setApplyPassphrase] = useState('');

  const [previews, setPreviews] = useState<ImportPreview[]>([]);
  const [previewFor, setPreviewFor] = useState('');
  const [previewJobId, setPreviewJobId] = useState<string | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const { job: previewJob } = useJob(previewJobId);

  const [choices, setChoices] = useState<Choices>(emptyChoices);
  const [known, setKnown] = useState<KnownConflicts>({});

  const [applyJobId, setApplyJobId] = useState<string | null>(null);
  const [applyError, setApplyError] = useState<{ message: string; stale: boolean } | null>(null);
  const { job: applyJob } = useJob(applyJobId);
  const [report, setReport] = useState<ImportReport | null>(null);

  useEffect(() => {
    get<{ data: ImportPreview[] }>(`/${PLUGIN_ID}/imports/previews`)
      .then(({ data }) => setPreviews(data.data))
      .catch(() => setPreviews([]));
  }, [get]);

  const loadPreview = useCallback(
    async (id: string) => {
      setPreviewError(null);
      try {
        const { data } = await get<{ data: ImportPreview }>(`/${PLUGIN_ID}/imports/previews/${id}`);
        setPreview(data.data);
        return data.data;
      } catch (err) {
        setPreviewError(apiError(err).message);
        return null;
      }
    },
    [get]
  );

  // The preview job finished: its result names the stored preview.
  useEffect(() => {
    if (!previewJob?.finishedAt) return;
    const result = previewJob.result as PreviewJobResult | null;
    if ((previewJob.status === 'succeeded' || previewJob.status === 'warning') && result?.previewId) loadPreview(result.previewId);
  }, [previewJob?.finishedAt]);

  // The apply job finished: its result is the report.
  useEffect(() => {
    if (!applyJob?.finishedAt) return;
    if ((applyJob.status === 'succeeded' || applyJob.status === 'warning') && applyJob.result) {
      setReport(applyJob.result as unknown as ImportReport);
      setStep('report');
    }
  }, [applyJob?.finishedAt]);

  const startPreview = async (next: PreviewOptions & { passphrase?: string }) => {
    if (!source) return;
    setKeyNeeded(Boolean(next.passphrase));
    const opts: PreviewOptions = { skipIncompatible: next.skipIncompatible, mirror: next.mirror, match: next.match };
    setOptions(opts);
    setPreview(null);
    setPreviewError(null);
    setPreviewJobId(null);
    setStartError(null);
    setKnown({});
    setApplyError(null);
    setPreviewFor(sourceKey(source, opts));
    const body: PreviewBody = {
      source: source.kind === 'backup' ? { backupId: source.backupId } : { uploadId: source.upload.uploadId },
      skipIncompatible: opts.skipIncompatible,
      mirror: opts.mirror,
    };
    if (Object.keys(opts.match).length) body.match = opts.match;
    if (next.passphrase) body.passphrase = next.passphrase;
    try {
      const { data } = await post<{ data: Job }>(`/${PLUGIN_ID}/imports/preview`, body);
      setPreviewJobId(data.data.id);
    } catch (err) {
      setStartError(apiError(err).message);
    }
  };

  const chooseSource = (next: Source | null) => setSource(next);

  const reopen = async (old: ImportPreview) => {
    const from = old.source;
    setSource(
      'backupId' in from
        ? { kind: 'backup', backupId: from.backupId }
        : { kind: 'upload', upload: { uploadId: from.uploadId, name: from.name, size: 0, createdAt: old.createdAt } }
    );
    setOptions({
      skipIncompatible: old.compatibility.some((c) => c.skipped && c.status === 'different'),
      mirror: old.mirror,
      match: Object.fromEntries(old.types.filter((ty) => ty.matchBy).map((ty) => [ty.uid, ty.matchBy as string])),
    });
    setPreviewJobId(null);
    setStartError(null);
    setKnown({});
    const loaded = await loadPreview(old.id);
    if (!loaded) return;
    setPreviewFor('reopened');
    if (loaded.appliedBy) {
      setApplyJobId(loaded.appliedBy);
      setStep('progress');
    } else {
      setStep('validation');
    }
  };

  const apply = async () => {
    if (!preview) return;
    setApplyError(null);
    const body: ApplyBody = { confirm: true, dangling: choices.dangling };
    if (Object.keys(choices.policies).length) body.policies = choices.policies;
    if (Object.keys(choices.documents).length) body.documents = choices.documents;
    if (Object.keys(choices.fields).length) body.fields = choices.fields;
    if (keyNeeded) body.passphrase = applyPassphrase;
    setApplyPassphrase('');
    try {
      const { data } = await post<{ data: Job }>(`/${PLUGIN_ID}/imports/previews/${preview.id}/apply`, body);
      setApplyJobId(data.data.id);
      setStep('progress');
    } catch (err) {
      const e = apiError(err);
      setApplyError({ message: e.message, stale: e.code === 'STALE_PREVIEW' });
    }
  };

  const restart = () => {
    setStep('source');
    chooseSource(null);
    upload.reset();
    setPreview(null);
    setPreviewJobId(null);
    setPreviewFor('');
    setChoices(emptyChoices);
    setKnown({});
    setApplyJobId(null);
    setApplyError(null);
    setReport(null);
  };

  const learn = useCallback((docs: PreviewDocument[]) => {
    setKnown((prev) => {
      const next = { ...prev };
      for (const doc of docs) if (doc.state === 'conflict') next[doc.key] = { uid: doc.uid, conflicts: doc.conflicts };
      return next;
    });
  }, []);

  const unresolved = preview ? countUnresolved(preview, choices, known) : 0;
  const applyFailed = applyJob?.finishedAt && applyJob.status !== 'succeeded' && applyJob.status !== 'warning';

  const next = () => {
    if (step === 'source') {
      if (sourceKey(source, options) !== previewFor || (!preview && !previewJob)) startPreview({ ...options });
      setStep('validation');
    } else if (step === 'validation') setStep('preview');
    else if (step === 'preview') setStep('conflicts');
    else if (step === 'conflicts') setStep('confirm');
  };
  const back = () => {
    const order: Step[] = ['source', 'validation', 'preview', 'conflicts', 'confirm'];
    const i = order.indexOf(step);
    if (i > 0) setStep(order[i - 1]);
  };
  const canNext =
    (step === 'source' && Boolean(source) && !upload.running) ||
    (step === 'validation' && Boolean(preview)) ||
    step === 'preview' ||
    (step === 'conflicts' && unresolved === 0);

  return (
    <Page.Main>
      <Page.Title>{t('import.title', 'Import')}</Page.Title>
      <Layouts.Header
        navigationAction={<BackLink label={t('details.back', 'Back')} />}
        title={t('import.title', 'Import')}
        subtitle={t('import.subtitle', 'Merge an archive into this app: see what changes, decide each conflict, then import, with a report and an undo.')}
      />
      <Layouts.Content>
        <Flex direction="column" alignItems="stretch" gap={6}>
          <Stepper current={step} />

          {step === 'source' ? (
            <SourceStep backups={backups} source={source} onSource={chooseSource} upload={upload} previews={previews} onReopen={reopen} />
          ) : null}
          {step === 'validation' ? (
            <>
              <ValidationStep
                key={previewJobId ?? 'none'}
                job={previewJob}
                startError={startError}
                preview={preview}
                options={options}
                types={Object.entries(names).map(([uid, displayName]) => ({ uid, displayName }))}
                typed={keyNeeded}
                onRetry={startPreview}
                onBack={() => setStep('source')}
              />
              {previewError ? (
                <ErrorNote
                  title={t('import.validation.loadFailed', 'The preview could not be loaded')}
                  message={previewError}
                  hint={t('import.action.retryLater', 'Try again in a moment.')}
                />
              ) : null}
            </>
          ) : null}
          {step === 'preview' && preview ? <PreviewStep preview={preview} /> : null}
          {step === 'conflicts' && preview ? (
            <ConflictsStep preview={preview} choices={choices} onChoices={setChoices} known={known} onKnown={learn} unresolved={unresolved} />
          ) : null}
          {step === 'confirm' && preview ? (
            <>
              <ConfirmStep preview={preview} choices={choices} onChoices={setChoices} />
              {keyNeeded ? (
                <Section title={t('import.validation.encrypted', 'This archive is encrypted')}>
                  <Field.Root name="apply-passphrase" hint={t('import.confirm.passphrase.hint', 'The preview did not keep it: type it again to import. It is sent with this request only.')}>
                    <Field.Label>{t('import.validation.passphrase', 'Passphrase')}</Field.Label>
                    <TextInput
                      type="password"
                      autoComplete="off"
                      value={applyPassphrase}
                      onChange={(e: React.ChangeEvent<HTMLInputElement>) => setApplyPassphrase(e.target.value)}
                    />
                    <Field.Hint />
                  </Field.Root>
                </Section>
              ) : null}
              {applyError ? (
                <ErrorNote
                  title={applyError.stale ? t('import.apply.stale', 'The data changed since the preview') : t('import.apply.notStarted', 'The import could not start')}
                  message={applyError.message}
                  hint={
                    applyError.stale
                      ? t('import.apply.stale.hint', 'Nothing was imported. Run the preview again to see the current differences; your policies are kept.')
                      : t('import.validation.notStarted.hint', 'If another backup, restore or import is running, wait for it to finish and try again.')
                  }
                  action={
                    applyError.stale ? (
                      <Button
                        variant="secondary"
                        onClick={() => {
                          startPreview({ ...options });
                          setStep('validation');
                        }}
                      >
                        {t('import.apply.rerun', 'Preview again')}
                      </Button>
                    ) : undefined
                  }
                />
              ) : null}
            </>
          ) : null}
          {step === 'progress' ? (
            <Section title={t('import.progress.title', 'Importing')}>
              {applyJob ? <JobProgress job={applyJob} /> : null}
              {applyFailed ? (
                <ErrorNote
                  title={t('import.progress.failed', 'The import failed and nothing was changed')}
                  message={applyJob?.error?.message}
                  hint={
                    applyJob?.error?.code === 'STALE_PREVIEW'
                      ? t('import.apply.stale.hint', 'Nothing was imported. Run the preview again to see the current differences; your policies are kept.')
                      : t('import.progress.failed.hint', 'The database and the uploads are as before. Read the job log on the Monitoring page, fix the cause, and import again.')
                  }
                  action={
                    <Button variant="secondary" onClick={() => setStep('confirm')}>
                      {t('import.progress.back', 'Back to the confirmation')}
                    </Button>
                  }
                />
              ) : null}
            </Section>
          ) : null}
          {step === 'report' && report && preview ? <ReportStep report={report} preview={preview} /> : null}

          {step !== 'progress' ? (
            <Box>
              <Flex justifyContent="space-between" gap={2}>
                {step !== 'source' && step !== 'report' ? (
                  <Button variant="tertiary" startIcon={<ArrowLeft />} onClick={back}>
                    {t('import.action.back', 'Back')}
                  </Button>
                ) : (
                  <span />
                )}
                {step === 'confirm' ? (
                  <Button variant="danger" onClick={apply} disabled={keyNeeded && !applyPassphrase}>
                    {t('import.action.apply', 'Import now')}
                  </Button>
                ) : step === 'report' ? (
                  <Button variant="secondary" onClick={restart}>
                    {t('import.action.again', 'Import something else')}
                  </Button>
                ) : (
                  <Flex gap={3}>
                    {step === 'conflicts' && unresolved > 0 ? (
                      <Typography variant="pi" textColor="neutral600">
                        {t('import.conflicts.decideFirst', 'Decide every conflict to go on.')}
                      </Typography>
                    ) : null}
                    <Button endIcon={<ArrowRight />} onClick={next} disabled={!canNext}>
                      {t('action.next', 'Next')}
                    </Button>
                  </Flex>
                )}
              </Flex>
            </Box>
          ) : null}
        </Flex>
      </Layouts.Content>
    </Page.Main>
  );
};
