/**
 * Evidence: police.uk files uploaded on the web and imported with progress. The coordinator
 * uploads one or more month files (streamed to temporary files, never held in memory); their
 * headers are checked at once, then they import one after another in the background, and the
 * import's page shows how far it has got (a "Check progress" link without JavaScript; with it,
 * police-upload.js asks the JSON every second).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import type { PoliceUkImportView } from '../../services/police-uk.js';
import { MAX_DISK_UPLOAD_BYTES, takeUploadedFiles, uploadedDiskFiles } from '../forms.js';
import { formatDateTime } from '../render.js';
import { evidencePage } from './evidence.js';

type Params = { slug: string };
type ImportParams = { slug: string; id: string };
type Page = Awaited<ReturnType<typeof evidencePage>>;

/** Files one form may send at once: a year of a force's street and outcomes files. */
const MAX_FILES = 24;

const MEGABYTES = MAX_DISK_UPLOAD_BYTES / (1024 * 1024);

function importId(value: string): number {
  return /^\d{1,9}$/.test(value) ? Number(value) : -1;
}

/** What the progress page and its JSON say about an import. */
function describe(view: PoliceUkImportView) {
  const megabytes = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);
  let status: string;
  if (view.state === 'done') {
    status = `Imported ${view.rows.toLocaleString('en-GB')} rows.`;
  } else if (view.state === 'failed') {
    status = 'The import failed. Nothing from this file was written.';
  } else if (view.phase === 'writing') {
    status = `Writing rows to the database: ${view.rowsWritten.toLocaleString('en-GB')} of ${view.rows.toLocaleString('en-GB')}.`;
  } else if (view.phase === 'checking') {
    status = `Reading and checking rows: ${view.rows.toLocaleString('en-GB')} so far (${megabytes(view.bytesRead)} of ${megabytes(view.totalBytes)} MB read).`;
  } else if (view.phase === 'waiting') {
    status = 'Waiting for the file before it to finish importing.';
  } else {
    status = 'Importing on another server: check again in a moment.';
  }
  return { ...view, status };
}

const STATE_WORDS = { running: 'Importing', done: 'Imported', failed: 'Failed' } as const;

/** The progress page's summary list: the file, and its result or error once it has one. */
function summaryRows(view: PoliceUkImportView) {
  const row = (key: string, text: string, classes?: string) => ({
    key: { text: key },
    value: { text },
    ...(classes ? { classes } : {}),
  });
  const rows = [
    row('State', STATE_WORDS[view.state]),
    row('File', view.filename),
    row('Size', `${(view.totalBytes / (1024 * 1024)).toFixed(1)} MB`),
    row('Rows', view.rows.toLocaleString('en-GB'), 'app-police-import__rows'),
    row('Started', formatDateTime(view.startedAt)),
    row('By', view.by),
  ];
  if (view.result) {
    rows.push(
      row('Force and month', `${view.result.force}, ${view.result.month}`),
      row('Kind', view.result.kind === 'street' ? 'Street-level crime and ASB' : 'Outcomes'),
      row('Rows replaced', view.result.replaced.toLocaleString('en-GB')),
    );
  }
  if (view.finishedAt) rows.push(row('Finished', formatDateTime(view.finishedAt)));
  if (view.error) rows.push(row('What went wrong', view.error));
  return rows;
}

export function registerPoliceUploadRoutes(app: FastifyInstance, services: Services): void {
  const uploadPage = async (
    reply: FastifyReply,
    page: Page,
    extra: { errorList?: { text: string; href: string }[]; errors?: Record<string, { text: string }> } = {},
  ) => {
    const [imports, months] = [
      await services.policeUpload.list(page.actor, page.partnership.slug),
      await services.policeUpload.months(page.actor, page.partnership.slug),
    ];
    return reply.page('evidence/police-uk.njk', {
      ...page.common,
      title: 'Import police.uk files',
      action: `${page.evidence}/police-uk`,
      maxMegabytes: MEGABYTES,
      maxFiles: MAX_FILES,
      imports: imports.map(describe),
      months,
      ...extra,
    });
  };

  app.get<{ Params: Params }>('/p/:slug/evidence/police-uk', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    return uploadPage(reply, page);
  });

  app.post<{ Params: Params }>(
    '/p/:slug/evidence/police-uk',
    {
      config: {
        uploadToDisk: true,
        multipartOptions: { limits: { fileSize: MAX_DISK_UPLOAD_BYTES, files: MAX_FILES } },
      },
    },
    async (request, reply) => {
      const page = await evidencePage(services, request, request.params.slug);
      const files = uploadedDiskFiles(request.body, 'files');
      try {
        const ids = await services.policeUpload.start(page.actor, page.partnership.slug, files);
        // The queue removes each temporary file once it is imported.
        takeUploadedFiles(request, files);
        const next =
          ids.length === 1 ? `${page.evidence}/police-uk/imports/${ids[0]}` : `${page.evidence}/police-uk`;
        if (ids.length > 1) {
          reply.flash(`${ids.length} files are importing one after another: see their progress below.`);
        }
        return reply.redirect(next, 303);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        reply.code(400);
        return uploadPage(reply, page, {
          errorList: error.problems.map((p) => ({ text: p.message, href: '#files' })),
          errors: { files: { text: error.problems.map((p) => p.message).join(' ') } },
        });
      }
    },
  );

  app.get<{ Params: ImportParams }>('/p/:slug/evidence/police-uk/imports/:id', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    const view = await services.policeUpload.get(
      page.actor,
      page.partnership.slug,
      importId(request.params.id),
    );
    const here = `${page.evidence}/police-uk/imports/${view.id}`;
    return reply.header('cache-control', 'no-store').page('evidence/police-uk-import.njk', {
      ...page.common,
      title: view.state === 'running' ? `Importing ${view.filename}` : `Import of ${view.filename}`,
      upload: `${page.evidence}/police-uk`,
      here,
      json: `${here}.json`,
      view: describe(view),
      summaryRows: summaryRows(view),
    });
  });

  app.get<{ Params: ImportParams }>(
    '/p/:slug/evidence/police-uk/imports/:id.json',
    async (request, reply) => {
      const page = await evidencePage(services, request, request.params.slug);
      const view = await services.policeUpload.get(
        page.actor,
        page.partnership.slug,
        importId(request.params.id),
      );
      const { status, state, phase, rows, rowsWritten, bytesRead, totalBytes, percent, result, error } =
        describe(view);
      return reply.header('cache-control', 'no-store').send({
        id: view.id,
        state,
        phase,
        rows,
        rowsWritten,
        bytesRead,
        totalBytes,
        percent,
        status,
        result,
        error,
      });
    },
  );
}
