/**
 * Funding lines on aims and actions, and the PCC’s half-year budget report (DOCX, XLSX).
 * Every member reads the plan's Funding page and downloads the report; the coordinator records
 * any line, a lead officer the lines of the actions they lead. The services check again.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { writePccBudgetReportDocx } from '../../documents/pcc-budget-report-docx.js';
import { writePccBudgetReportXlsx } from '../../documents/pcc-budget-report-xlsx.js';
import {
  describeSteps,
  formatDay,
  formatPence,
  FUNDING_STATE_LABELS,
  FUNDING_STATES,
  grandTotal,
  halfDates,
  halfMonths,
  HALVES,
  parseHalf,
  pccReportFilename,
  penceToPoundsText,
  STEP_DATE_FIELDS,
  totalsBy,
  totalsByState,
  type FundingTotalsRow,
  type Half,
} from '../../domain/funding.js';
import { compareAimNumbers } from '../../domain/numbering.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Actor } from '../../services/actor.js';
import type { FundingLineView } from '../../services/funding.js';
import type { Services } from '../../services/index.js';
import { allAims, findAim, type AimNode } from '../../services/plan-read.js';
import { formBody, formErrors } from '../forms.js';
import { loadPlanPage } from './plan.js';

type PlanParams = { slug: string; year: string };
type Page = Awaited<ReturnType<typeof loadPlanPage>> & { services: Services };

const DATE_FIELDS = Object.values(STEP_DATE_FIELDS);
const DATE_PARTS = ['day', 'month', 'year'] as const;

const CONTENT_TYPES = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/** A line as the pages show it: money and dates in words. */
function display(line: FundingLineView) {
  return {
    ...line,
    amount: formatPence(line.amountPence),
    spentToDate: formatPence(line.spentToDatePence),
    stateLabel: FUNDING_STATE_LABELS[line.state],
    steps: describeSteps(line),
    forText:
      line.actionId === null
        ? 'The aim as a whole'
        : line.actionIndex === null
          ? 'An archived action'
          : `Action ${line.actionIndex}`,
  };
}

function totalsDisplay(row: FundingTotalsRow) {
  return {
    label: row.label,
    lines: row.lines,
    total: formatPence(row.totalPence),
    spentToDate: formatPence(row.spentToDatePence),
  };
}

/** What an aim's page shows of its funding (views/funding/aim-funding.njk). */
export async function aimFunding(
  services: Services,
  actor: Actor,
  aim: AimNode,
  base: string,
  /** The request's read stamp (services/read-cache.ts), on pages. */
  stamp?: string,
) {
  const [lines, targets] = await Promise.all([
    services.funding.listForAim(actor, aim.id, stamp),
    services.funding.targets(actor, aim.id, stamp),
  ]);
  return {
    lines: lines.map(display),
    total: totalsDisplay(grandTotal(lines)),
    addHref:
      targets.aim || targets.actions.length
        ? `${base}/funding/new?aim=${encodeURIComponent(aim.number)}`
        : null,
    fundingHref: `${base}/funding`,
  };
}

// ——— The form ———

/** The form's values as typed, from a line (for a change) or nothing (for a new line). */
function valuesOf(line: FundingLineView | undefined): Record<string, string> {
  if (!line) return { actionId: '', state: '' };
  const values: Record<string, string> = {
    actionId: line.actionId === null ? '' : String(line.actionId),
    source: line.source,
    amount: penceToPoundsText(line.amountPence),
    state: line.state,
    spentToDate: line.spentToDatePence ? penceToPoundsText(line.spentToDatePence) : '',
    notes: line.notes ?? '',
    version: String(line.version),
  };
  for (const field of DATE_FIELDS) {
    const iso = line[field];
    if (!iso) continue;
    const [year = '', month = '', day = ''] = iso.split('-');
    values[`${field}-day`] = String(Number(day));
    values[`${field}-month`] = String(Number(month));
    values[`${field}-year`] = year;
  }
  return values;
}

/**
 * The service's input from the form: each date's three boxes made one YYYY-MM-DD (blank when all
 * three are; anything partial or wrong fails the service's check as not a real date).
 */
function inputOf(values: Record<string, string>): Record<string, string> {
  const input: Record<string, string> = {
    actionId: values.actionId ?? '',
    source: values.source ?? '',
    amount: values.amount ?? '',
    state: values.state ?? '',
    spentToDate: values.spentToDate ?? '',
    notes: values.notes ?? '',
  };
  if (values.version !== undefined) input.version = values.version;
  for (const field of DATE_FIELDS) {
    const [day, month, year] = DATE_PARTS.map((p) => (values[`${field}-${p}`] ?? '').trim());
    input[field] = day || month || year ? `${year}-${month!.padStart(2, '0')}-${day!.padStart(2, '0')}` : '';
  }
  return input;
}

function dateItems(field: string, values: Record<string, string>, wrong: boolean) {
  return DATE_PARTS.map((part) => ({
    name: part,
    label: part.charAt(0).toUpperCase() + part.slice(1),
    classes: `${part === 'year' ? 'govuk-input--width-4' : 'govuk-input--width-2'}${wrong ? ' govuk-input--error' : ''}`,
    value: values[`${field}-${part}`] ?? '',
  }));
}

interface FormView {
  title: string;
  aim: AimNode;
  section: { number: number; title: string };
  line?: ReturnType<typeof display>;
  action: string;
  back: string;
}

async function renderForm(
  reply: FastifyReply,
  page: Page,
  view: FormView,
  values: Record<string, string>,
  problems: readonly { field: string; message: string }[] = [],
  conflict?: Record<string, unknown>,
) {
  const targets = await page.services.funding.targets(page.actor, view.aim.id);
  const errors = formErrors(problems);
  // A date's error summary link goes to its first box.
  const errorList = errors.errorList.map((e) =>
    DATE_FIELDS.some((f) => e.href === `#${f}`) ? { ...e, href: `${e.href}-day` } : e,
  );
  const forItems = [
    ...(targets.aim ? [{ value: '', text: `Aim ${view.aim.number} as a whole` }] : []),
    ...targets.actions.map((a) => ({ value: String(a.id), text: `Action ${a.index}: ${a.summary}` })),
  ].map((item) => ({ ...item, checked: item.value === (values.actionId ?? '') }));
  return reply.page('funding/form.njk', {
    ...page.common,
    nav: 'funding',
    ...view,
    values,
    ...(problems.length ? { errorList, errors: errors.errors } : {}),
    conflict,
    forItems,
    stateItems: FUNDING_STATES.map((s) => ({
      value: s,
      text: FUNDING_STATE_LABELS[s],
      checked: values.state === s,
    })),
    dates: FUNDING_STATES.map((s) => ({
      field: STEP_DATE_FIELDS[s],
      legend: `Date ${s === 'applied' ? 'applied for' : s}`,
      items: dateItems(STEP_DATE_FIELDS[s], values, Boolean(errors.errors[STEP_DATE_FIELDS[s]])),
      error: errors.errors[STEP_DATE_FIELDS[s]],
    })),
    sources: await page.services.funding.listForPlan(page.actor, page.tree.plan.id).then((r) => r.sources),
  });
}

/** Runs a write and answers the form: the error summary, the conflict notice, or on to `to`. */
async function submit(
  reply: FastifyReply,
  page: Page,
  view: FormView,
  values: Record<string, string>,
  write: () => Promise<unknown>,
  done: { flash: string; to: string },
) {
  try {
    await write();
  } catch (error) {
    if (error instanceof ValidationError) {
      reply.code(400);
      return renderForm(reply, page, view, values, error.problems);
    }
    if (error instanceof ConflictError) {
      reply.code(409);
      const current = error.current as {
        source: string;
        amountPence: number;
        state: keyof typeof FUNDING_STATE_LABELS;
        version: number;
      };
      return renderForm(reply, page, view, { ...values, version: String(current.version) }, [], {
        source: current.source,
        amount: formatPence(current.amountPence),
        state: FUNDING_STATE_LABELS[current.state],
      });
    }
    throw error;
  }
  reply.flash(done.flash);
  return reply.redirect(done.to, 303);
}

// ——— The routes ———

export function registerFundingRoutes(app: FastifyInstance, services: Services): void {
  const planPage = async (request: FastifyRequest, params: PlanParams): Promise<Page> => ({
    ...(await loadPlanPage(services, request as Parameters<typeof loadPlanPage>[1], params)),
    services,
  });

  /** A live line of this plan, or 404. */
  const lineOf = async (page: Page, id: string) => {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n <= 0) throw new NotFoundError('The funding line');
    const line = await services.funding.get(page.actor, n);
    if (line.planId !== page.tree.plan.id) throw new NotFoundError('The funding line');
    return line;
  };

  const lineView = (page: Page, line: FundingLineView): FormView => {
    const { section, aim } = findAim(page.tree, line.aimNumber);
    return {
      title: `Change a funding line of aim ${aim.number}`,
      aim,
      section,
      line: display(line),
      action: `${page.base}/funding/${line.id}/edit`,
      back: `${page.base}/aims/${aim.number}`,
    };
  };

  // ——— The plan's Funding page ———
  app.get<{ Params: PlanParams; Querystring: Record<string, string> }>(
    '/p/:slug/plans/:year/funding',
    async (request, reply) => {
      const page = await planPage(request, request.params);
      const query = request.query;
      const state = typeof query.state === 'string' ? query.state : undefined;
      const source = typeof query.source === 'string' ? query.source : undefined;
      const { lines, sources, filters } = await services.funding.listForPlan(page.actor, page.tree.plan.id, {
        state,
        source,
      });
      const filtered = Object.keys(filters).length > 0;
      const led = page.canEdit ? [] : await services.progress.ledActionIds(page.actor, page.tree.plan.id);
      const addAims = allAims(page.tree)
        .filter((aim) => page.canEdit || aim.actions.some((a) => led.includes(a.id)))
        .sort((a, b) => compareAimNumbers(a.number, b.number));
      const reports = HALVES.map((half: Half) => {
        const { startsOn, endsOn } = halfDates(page.tree.plan.year, half);
        return {
          half,
          label: `${half}: ${halfMonths(half)} (${formatDay(startsOn)} to ${formatDay(endsOn)})`,
          docx: `${page.base}/funding/pcc-report-${half}.docx`,
          xlsx: `${page.base}/funding/pcc-report-${half}.xlsx`,
        };
      });
      return reply.page('funding/plan.njk', {
        ...page.common,
        title: 'Funding',
        nav: 'funding',
        lines: lines.map(display),
        filtered,
        totals: {
          all: totalsDisplay(grandTotal(lines)),
          byState: totalsByState(lines).map(totalsDisplay),
          bySource: totalsBy(lines, (l) => [l.source]).map(totalsDisplay),
        },
        stateItems: [
          { value: '', text: 'All states', selected: !filters.state },
          ...FUNDING_STATES.map((s) => ({
            value: s,
            text: FUNDING_STATE_LABELS[s],
            selected: filters.state === s,
          })),
        ],
        sourceItems: [
          { value: '', text: 'All sources', selected: !filters.source },
          ...sources.map((s) => ({ value: s, text: s, selected: filters.source === s })),
        ],
        addItems: addAims.map((aim) => ({ value: aim.number, text: `${aim.number} ${aim.title}` })),
        reports,
      });
    },
  );

  // ——— Add a line (to the aim named in ?aim=) ———
  const newView = async (request: FastifyRequest<{ Params: PlanParams; Querystring: { aim?: string } }>) => {
    const page = await planPage(request, request.params);
    const number = typeof request.query.aim === 'string' ? request.query.aim.trim() : '';
    const { section, aim } = findAim(page.tree, number);
    const targets = await services.funding.targets(page.actor, aim.id);
    if (!targets.aim && !targets.actions.length) {
      throw new ForbiddenError(
        'Only the coordinator, and the lead officers of an action for that action’s funding, can record funding.',
      );
    }
    const view: FormView = {
      title: `Add a funding line to aim ${aim.number}`,
      aim,
      section,
      action: `${page.base}/funding/new?aim=${encodeURIComponent(aim.number)}`,
      back: `${page.base}/aims/${aim.number}`,
    };
    return { page, view, targets };
  };

  app.get<{ Params: PlanParams; Querystring: { aim?: string } }>(
    '/p/:slug/plans/:year/funding/new',
    async (request, reply) => {
      const { page, view, targets } = await newView(request);
      const values = valuesOf(undefined);
      // A lead officer who leads one action of the aim has nothing else to choose.
      if (!targets.aim && targets.actions.length === 1) values.actionId = String(targets.actions[0]!.id);
      return renderForm(reply, page, view, values);
    },
  );

  app.post<{ Params: PlanParams; Querystring: { aim?: string } }>(
    '/p/:slug/plans/:year/funding/new',
    async (request, reply) => {
      const { page, view, targets } = await newView(request);
      const values = formBody(request.body);
      return submit(
        reply,
        page,
        view,
        values,
        async () => {
          // A lead officer who chose none of her actions is asked to choose, not refused.
          if (!targets.aim && !values.actionId) {
            throw new ValidationError([{ field: 'actionId', message: 'Choose what the money is for' }]);
          }
          return services.funding.create(page.actor, view.aim.id, inputOf(values));
        },
        { flash: `The funding line has been added to aim ${view.aim.number}`, to: view.back },
      );
    },
  );

  // ——— Change a line ———
  const editView = async (request: FastifyRequest<{ Params: PlanParams & { id: string } }>) => {
    const page = await planPage(request, request.params);
    const line = await lineOf(page, request.params.id);
    if (!line.canManage) {
      throw new ForbiddenError(
        'Only the coordinator, and the lead officers of an action for that action’s funding, can change funding.',
      );
    }
    return { page, line, view: lineView(page, line) };
  };

  app.get<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/funding/:id/edit',
    async (request, reply) => {
      const { page, line, view } = await editView(request);
      return renderForm(reply, page, view, valuesOf(line));
    },
  );

  app.post<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/funding/:id/edit',
    async (request, reply) => {
      const { page, line, view } = await editView(request);
      const values = formBody(request.body);
      return submit(
        reply,
        page,
        view,
        values,
        () => services.funding.update(page.actor, line.id, inputOf(values)),
        { flash: `The funding line of aim ${view.aim.number} has been changed`, to: view.back },
      );
    },
  );

  // ——— Archive a line, after a confirmation page ———
  app.get<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/funding/:id/archive',
    async (request, reply) => {
      const { page, line, view } = await editView(request);
      return reply.page('funding/archive.njk', {
        ...page.common,
        nav: 'funding',
        title: `Archive a funding line of aim ${view.aim.number}`,
        line: display(line),
        aim: view.aim,
        back: view.back,
      });
    },
  );

  app.post<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/funding/:id/archive',
    async (request, reply) => {
      const { page, line, view } = await editView(request);
      const version = Number(formBody(request.body).version);
      try {
        await services.funding.archive(page.actor, line.id, version);
      } catch (error) {
        if (error instanceof ConflictError) {
          reply.code(409);
          return reply.page('funding/archive.njk', {
            ...page.common,
            nav: 'funding',
            title: `Archive a funding line of aim ${view.aim.number}`,
            line: display(await services.funding.get(page.actor, line.id)),
            aim: view.aim,
            back: view.back,
            conflict: true,
          });
        }
        throw error;
      }
      reply.flash(
        `You archived the funding line of ${formatPence(line.amountPence)} from ${line.source}. It no longer shows or counts in the totals; its history is kept.`,
      );
      return reply.redirect(view.back, 303);
    },
  );

  // ——— The PCC's half-year budget report ———
  for (const extension of ['docx', 'xlsx'] as const) {
    app.get<{ Params: PlanParams & { half: string } }>(
      `/p/:slug/plans/:year/funding/pcc-report-:half.${extension}`,
      async (request, reply) => {
        const page = await planPage(request, request.params);
        const half = parseHalf(request.params.half);
        if (!half || half !== request.params.half)
          throw new NotFoundError(`The half year ${request.params.half}`);
        const report = await services.funding.pccReport(page.actor, page.tree.plan.id, half);
        const bytes =
          extension === 'docx'
            ? await writePccBudgetReportDocx(report)
            : await writePccBudgetReportXlsx(report);
        return reply
          .type(CONTENT_TYPES[extension])
          .header(
            'content-disposition',
            `attachment; filename="${pccReportFilename(page.partnership.slug, page.tree.plan.year, half, extension)}"`,
          )
          .header('cache-control', 'no-store')
          .send(bytes);
      },
    );
  }
}
