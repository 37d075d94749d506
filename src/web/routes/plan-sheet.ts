/**
 * The plan as a spreadsheet: XLSX and CSV export, and import back as an upsert with a preview.
 * Members download; the coordinator uploads a file, checks the preview and confirms it. The
 * services check the permissions again and make the changes in one transaction.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TableProblem } from '../../documents/plan-csv.js';
import { ForbiddenError, NotFoundError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { describeCounts, type SheetFormat, type SheetPreview } from '../../services/plan-sheet.js';
import { formBody, uploadedFile } from '../forms.js';
import { loadPlanPage } from './plan.js';

type PlanParams = { slug: string; year: string };
type UploadParams = PlanParams & { upload: string };
type PlanPage = Awaited<ReturnType<typeof loadPlanPage>>;

/** The most problems the error summary lists; the table under the form lists them all. */
const SUMMARY_LIMIT = 20;

function problemList(problems: readonly TableProblem[]) {
  const errorList = problems
    .slice(0, SUMMARY_LIMIT)
    .map((p) => ({ text: `${capitalise(p.where)}: ${p.message}`, href: '#problems' }));
  if (problems.length > SUMMARY_LIMIT) {
    errorList.push({
      text: `and ${problems.length - SUMMARY_LIMIT} more problems: see the list of problems`,
      href: '#problems',
    });
  }
  return errorList;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const IMPORT_REFUSED = 'Only the partnership’s coordinator can import a spreadsheet into the plan';

const FORMAT_NAMES: Record<SheetFormat, string> = { xlsx: 'Excel workbook', csv: 'CSV file' };

export function registerPlanSheetRoutes(app: FastifyInstance, services: Services): void {
  const pagePath = (page: PlanPage) => `${page.base}/spreadsheet`;

  const sheetPage = (
    reply: FastifyReply,
    page: PlanPage,
    extra: {
      errorList?: { text: string; href: string }[];
      errors?: Record<string, { text: string }>;
      problems?: readonly TableProblem[];
      filename?: string;
    } = {},
  ) =>
    reply.page('plan-sheet/spreadsheet.njk', {
      ...page.common,
      title: 'The plan as a spreadsheet',
      xlsxHref: `${pagePath(page)}.xlsx`,
      csvHref: `${pagePath(page)}.csv`,
      action: pagePath(page),
      ...extra,
    });

  const previewPage = (
    reply: FastifyReply,
    page: PlanPage,
    uploadId: number,
    data: {
      preview?: SheetPreview;
      filename?: string;
      problems?: readonly TableProblem[];
      planChanged?: boolean;
    },
  ) =>
    reply.page('plan-sheet/preview.njk', {
      ...page.common,
      title: data.preview?.unchanged ? 'The file changes nothing' : 'Check the changes before importing them',
      action: `${pagePath(page)}/uploads/${uploadId}`,
      sheetHref: pagePath(page),
      formatName: data.preview ? FORMAT_NAMES[data.preview.format] : undefined,
      ...data,
      ...(data.problems ? { errorList: problemList(data.problems) } : {}),
    });

  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/spreadsheet', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    return sheetPage(reply, page);
  });

  for (const format of ['xlsx', 'csv'] as const) {
    app.get<{ Params: PlanParams }>(`/p/:slug/plans/:year/spreadsheet.${format}`, async (request, reply) => {
      const page = await loadPlanPage(services, request, request.params);
      const file = await services.planSheet.export(page.actor, page.partnership, page.tree.plan.year, format);
      return reply
        .type(file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('cache-control', 'no-store')
        .send(file.body);
    });
  }

  app.post<{ Params: PlanParams }>('/p/:slug/plans/:year/spreadsheet', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    // The service checks again; a missing file is only explained to someone who may import.
    if (!page.canEdit) throw new ForbiddenError(IMPORT_REFUSED);
    const file = uploadedFile(request.body, 'file');
    if (!file) {
      reply.code(400);
      const message = 'Select the spreadsheet to import';
      return sheetPage(reply, page, {
        errorList: [{ text: message, href: '#file' }],
        errors: { file: { text: message } },
      });
    }
    const result = await services.planSheet.upload(page.actor, page.partnership, page.tree.plan.year, {
      filename: file.filename,
      data: file.data,
    });
    if (!result.ok) {
      reply.code(400);
      const count = result.problems.length;
      return sheetPage(reply, page, {
        errorList: problemList(result.problems),
        errors: {
          file: {
            text: `${file.filename} has ${count === 1 ? 'a problem' : `${count} problems`}: nothing was imported. Put ${count === 1 ? 'it' : 'them'} right and upload the file again`,
          },
        },
        problems: result.problems,
        filename: file.filename,
      });
    }
    return reply.redirect(`${pagePath(page)}/uploads/${result.uploadId}`, 303);
  });

  const uploadIdOf = (params: UploadParams): number => {
    if (!/^\d{1,9}$/.test(params.upload)) throw new NotFoundError('The upload');
    return Number(params.upload);
  };

  app.get<{ Params: UploadParams }>(
    '/p/:slug/plans/:year/spreadsheet/uploads/:upload',
    async (request, reply) => {
      const page = await loadPlanPage(services, request, request.params);
      const uploadId = uploadIdOf(request.params);
      const result = await services.planSheet.preview(
        page.actor,
        page.partnership,
        page.tree.plan.year,
        uploadId,
      );
      if (!result.ok)
        return previewPage(reply, page, uploadId, { filename: result.filename, problems: result.problems });
      return previewPage(reply, page, uploadId, { preview: result.preview });
    },
  );

  app.post<{ Params: UploadParams }>(
    '/p/:slug/plans/:year/spreadsheet/uploads/:upload',
    async (request, reply) => {
      const page = await loadPlanPage(services, request, request.params);
      const uploadId = uploadIdOf(request.params);
      const { fingerprint = '' } = formBody(request.body);
      const result = await services.planSheet.confirm(
        page.actor,
        page.partnership,
        page.tree.plan.year,
        uploadId,
        fingerprint,
      );
      if (result.status === 'problems') {
        reply.code(409);
        return previewPage(reply, page, uploadId, { filename: result.filename, problems: result.problems });
      }
      if (result.status === 'changed') {
        reply.code(409);
        return previewPage(reply, page, uploadId, { preview: result.preview, planChanged: true });
      }
      reply.flash(
        result.unchanged
          ? `${result.filename} changed nothing in the plan`
          : `Imported ${result.filename}: ${describeCounts(result.counts)}`,
      );
      return reply.redirect(pagePath(page), 303);
    },
  );
}
