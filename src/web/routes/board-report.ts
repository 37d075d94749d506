/**
 * The quarter’s board report: an HTML page, DOCX and PDF, from the closed snapshot once the quarter is closed.
 * Thin: the board report service checks that the reader may read the plan and builds the one
 * model; the documents write it out.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SUMMARY_COLUMNS } from '../../domain/board-report.js';
import {
  SUMMARY_LABELS,
  changesIntro,
  coverFacts,
  planHeadings,
  reportTitle,
  summaryNote,
} from '../../documents/board-report-words.js';
import { writeBoardReportDocx } from '../../documents/board-report-docx.js';
import { writeBoardReportPdf } from '../../documents/board-report-pdf.js';
import { parsePlanYear, parseQuarter, type Quarter } from '../../domain/quarters.js';
import { NotFoundError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { partnershipContext } from '../context.js';
import { loadPlanPage } from './plan.js';

type ReportParams = { slug: string; year: string; q: string };

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

export function registerBoardReportRoutes(app: FastifyInstance, services: Services): void {
  /** The quarter asked for; a reader who may not read the plan is refused before being told it does not exist. */
  async function quarterOf(request: FastifyRequest, params: ReportParams): Promise<Quarter> {
    const quarter = /^[1-4]$/.test(params.q) ? parseQuarter(params.q) : undefined;
    if (quarter) return quarter;
    await loadPlanPage(services, request, params);
    throw new NotFoundError(`Quarter ${params.q}`);
  }

  async function reportFor(request: FastifyRequest, params: ReportParams) {
    const quarter = await quarterOf(request, params);
    const year = parsePlanYear(params.year);
    if (!year) throw new NotFoundError(`The plan ${params.year}`);
    const { actor, partnership } = await partnershipContext(services, request, params.slug);
    return services.boardReport.get(actor, partnership, year, quarter);
  }

  function download(reply: FastifyReply, type: string, fileName: string, bytes: Buffer) {
    return reply
      .type(type)
      .header('content-disposition', `attachment; filename="${fileName}"`)
      .header('cache-control', 'no-store')
      .send(bytes);
  }

  app.get<{ Params: ReportParams }>('/p/:slug/plans/:year/quarters/:q/report', async (request, reply) => {
    const quarter = await quarterOf(request, request.params);
    const page = await loadPlanPage(services, request, request.params);
    const report = await services.boardReport.get(page.actor, page.partnership, page.tree.plan.year, quarter);
    const qbase = `${page.base}/quarters/${quarter}`;
    return reply.page('board-report/report.njk', {
      ...page.common,
      nav: 'quarters',
      title: `${reportTitle(report)}${report.draft ? ' (draft)' : ''}`,
      report,
      quarter,
      qbase,
      facts: coverFacts(report),
      summaryNote: summaryNote(report),
      changesIntro: changesIntro(report),
      planHeadings: planHeadings(report),
      summaryColumns: SUMMARY_COLUMNS.map((key) => ({ key, label: SUMMARY_LABELS[key] })),
      docxHref: `${qbase}/report.docx`,
      pdfHref: `${qbase}/report.pdf`,
    });
  });

  app.get<{ Params: ReportParams }>(
    '/p/:slug/plans/:year/quarters/:q/report.docx',
    async (request, reply) => {
      const report = await reportFor(request, request.params);
      return download(reply, DOCX_TYPE, `${report.fileName}.docx`, await writeBoardReportDocx(report));
    },
  );

  app.get<{ Params: ReportParams }>('/p/:slug/plans/:year/quarters/:q/report.pdf', async (request, reply) => {
    const report = await reportFor(request, request.params);
    return download(reply, 'application/pdf', `${report.fileName}.pdf`, await writeBoardReportPdf(report));
  });
}
