/**
 * The changes of the plan year, grouped by the quarter reports they went (or will go) to the board
 * with, as a page and as CSV; and the coordinator's pages to add, change and archive priorities
 * mid-year. Every write goes through a service that checks the permission again.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { londonDate } from '../../domain/cycles.js';
import { planYearSlug } from '../../domain/quarters.js';
import { writeChangesCsv } from '../../documents/changes-csv.js';
import { PLAN_CHANGE_LABELS, type ChangeReport } from '../../services/changes.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import type { PriorityRecord } from '../../services/priorities.js';
import { formBody, formErrors } from '../forms.js';
import { formatDate } from '../render.js';
import { loadPlanPage } from './plan.js';

type PlanParams = { slug: string; year: string };
type Page = Awaited<ReturnType<typeof loadPlanPage>>;

/** How a group of changes is headed, on the page and in the CSV. */
function reportHeading(report: ChangeReport, any: boolean, dates: (d: string) => string): string {
  if (report.quarter === undefined) return any ? 'Since the last report' : 'Not yet reported';
  if (report.reportedOn) return `Reported with Q${report.quarter} (board on ${dates(report.reportedOn)})`;
  return `Reported with Q${report.quarter} (closed on ${dates(londonDate(report.closedAt!))})`;
}

/** Checkboxes arrive as nothing, one value or several. */
function checkedValues(body: unknown, name: string): string[] {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return [value ?? []].flat().filter((v): v is string => typeof v === 'string');
}

export function registerChangesRoutes(app: FastifyInstance, services: Services): void {
  // ——— The changes of the year ———
  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/changes', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    const reports = await services.changes.byReport(page.actor, page.tree.plan.id);
    const anyClosed = reports.length > 1;
    return reply.page('plan/changes.njk', {
      ...page.common,
      title: `Changes to the plan in ${page.tree.plan.year}`,
      nav: 'changes',
      csvHref: `${page.base}/changes.csv`,
      total: reports.reduce((n, r) => n + r.changes.length, 0),
      reports: reports.map((report, index) => ({
        id:
          report.quarter === undefined
            ? 'since-last-report'
            : `reported-with-q${report.quarter}-${index + 1}`,
        heading: reportHeading(report, anyClosed, formatDate),
        rows: report.changes.map((change) => ({
          ...change,
          date: formatDate(change.on),
          label: PLAN_CHANGE_LABELS[change.kind],
        })),
      })),
    });
  });

  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/changes.csv', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    const reports = await services.changes.byReport(page.actor, page.tree.plan.id);
    const anyClosed = reports.length > 1;
    const csv = writeChangesCsv(
      reports.flatMap((report) =>
        report.changes.map((change) => ({
          reportedWith: reportHeading(report, anyClosed, (d) => d),
          on: change.on,
          change: PLAN_CHANGE_LABELS[change.kind],
          aimNumber: change.aimNumber,
          title: change.title,
          detail: change.detail,
          by: change.by,
        })),
      ),
    );
    const name = `${page.partnership.slug.replace(/[^\w-]/g, '')}-${planYearSlug(page.tree.plan.year)}-changes.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(csv);
  });

  // ——— Priorities: the coordinator ———
  const editorPage = async (request: Parameters<typeof loadPlanPage>[1], params: PlanParams) => {
    const page = await loadPlanPage(services, request, params);
    if (!page.canEdit) {
      throw new ForbiddenError('Only the partnership’s coordinator can change the plan’s priorities.');
    }
    return page;
  };

  const findPriority = async (page: Page, id: string): Promise<PriorityRecord> => {
    if (!/^\d{1,9}$/.test(id)) throw new NotFoundError('The priority');
    const priority = await services.priorities.get(page.actor, Number(id));
    if (priority.planId !== page.tree.plan.id || priority.archivedAt !== null) {
      throw new NotFoundError('The priority');
    }
    return priority;
  };

  const formView = async (page: Page, title: string, priority?: PriorityRecord) => ({
    ...page.common,
    title,
    priority,
    aimChoices: await services.priorities.aimChoices(page.actor, page.tree.plan.id),
    back: `${page.base}/about#priorities`,
  });

  /**
   * Runs a write and answers the form: back to the form with the error summary when the input is
   * wrong, a conflict notice (keeping what was typed) when someone changed it meanwhile.
   */
  const submit = async (
    reply: FastifyReply,
    view: Record<string, unknown>,
    values: Record<string, string | string[]>,
    write: () => Promise<unknown>,
    done: { flash: string; to: string },
  ): Promise<FastifyReply> => {
    try {
      await write();
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return reply.page('edit/priority.njk', { ...view, values, ...formErrors(error.problems) });
      }
      if (error instanceof ConflictError) {
        reply.code(409);
        const current = error.current as PriorityRecord;
        return reply.page('edit/priority.njk', {
          ...view,
          values: { ...values, version: String(current.version) },
          conflict: { current },
        });
      }
      throw error;
    }
    reply.flash(done.flash);
    return reply.redirect(done.to, 303);
  };

  const typed = (body: unknown) => {
    const fields = formBody(body);
    return {
      title: fields.title ?? '',
      description: fields.description ?? '',
      version: fields.version ?? '',
      aims: checkedValues(body, 'aims'),
    };
  };

  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/priorities/new', async (request, reply) => {
    const page = await editorPage(request, request.params);
    return reply.page('edit/priority.njk', {
      ...(await formView(page, 'Add a priority')),
      values: { aims: [] },
    });
  });

  app.post<{ Params: PlanParams }>('/p/:slug/plans/:year/priorities/new', async (request, reply) => {
    const page = await editorPage(request, request.params);
    const values = typed(request.body);
    return submit(
      reply,
      await formView(page, 'Add a priority'),
      values,
      () => services.priorities.create(page.actor, page.tree.plan.id, values),
      { flash: `The priority ${values.title.trim()} has been added`, to: `${page.base}/about#priorities` },
    );
  });

  app.get<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/priorities/:id/edit',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const priority = await findPriority(page, request.params.id);
      return reply.page('edit/priority.njk', {
        ...(await formView(page, 'Change a priority', priority)),
        values: {
          title: priority.title,
          description: priority.description ?? '',
          aims: priority.aimIds.map(String),
          version: String(priority.version),
        },
      });
    },
  );

  app.post<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/priorities/:id/edit',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const priority = await findPriority(page, request.params.id);
      const values = typed(request.body);
      return submit(
        reply,
        await formView(page, 'Change a priority', priority),
        values,
        () => services.priorities.update(page.actor, priority.id, values),
        {
          flash: `The priority ${values.title.trim()} has been changed`,
          to: `${page.base}/about#priorities`,
        },
      );
    },
  );

  const archiveItem = (page: Page, priority: PriorityRecord) => ({
    id: priority.id,
    version: priority.version,
    name: `the priority ${priority.title}`,
    back: `${page.base}/about#priorities`,
  });

  app.get<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/priorities/:id/archive',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const item = archiveItem(page, await findPriority(page, request.params.id));
      return reply.page('edit/archive.njk', {
        ...page.common,
        title: `Archive ${item.name}`,
        item,
        kind: 'priority',
      });
    },
  );

  app.post<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/priorities/:id/archive',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const item = archiveItem(page, await findPriority(page, request.params.id));
      try {
        await services.priorities.archive(page.actor, item.id, Number(formBody(request.body).version));
      } catch (error) {
        if (error instanceof ConflictError) {
          reply.code(409);
          return reply.page('edit/archive.njk', {
            ...page.common,
            title: `Archive ${item.name}`,
            item,
            kind: 'priority',
            conflict: true,
          });
        }
        throw error;
      }
      reply.flash(`You archived ${item.name}. It no longer shows in the live plan; its history is kept.`);
      return reply.redirect(item.back, 303);
    },
  );
}
