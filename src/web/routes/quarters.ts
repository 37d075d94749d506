/**
 * The coordinator's side of the quarterly cycle: the plan's four quarters; a quarter's page (the
 * form that opens it, then its submission board); JAG review of a submitted update (also by the
 * reviewers the coordinator names, never of an action they lead); closing the quarter; and the
 * snapshot as reported to the board, with its CSV and JSON. Thin: each page asks the cycle and
 * progress services, which check the permission again on every read and write.
 */
import { countOf } from '../../domain/text.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import {
  awaitsSubmission,
  formatReminderOffsets,
  isIsoDate,
  isSubmissionState,
  londonDate,
  offsetLabel,
  reminderDate,
  DEFAULT_REMINDER_OFFSETS,
  SUBMISSION_STATES,
  SUBMISSION_STATE_LABELS,
  type SubmissionState,
} from '../../domain/cycles.js';
import {
  canReviewUpdate,
  canReviewUpdates,
  canRunQuarterlyCycle,
  type Member,
} from '../../domain/permissions.js';
import { parseQuarter, planYearSlug, QUARTERS, quarterMonths } from '../../domain/quarters.js';
import type { Links } from '../../services/accounts.js';
import { PLAN_CHANGE_LABELS } from '../../domain/plan-changes.js';
import type { BoardRow, CycleRow, QuarterSnapshot } from '../../services/cycles.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { planTreeToTable } from '../../services/plan-sheet.js';
import { findAction } from '../../services/plan-read.js';
import { writePlanCsv } from '../../documents/plan-csv.js';
import { formBody, formErrors, type FormErrors } from '../forms.js';
import { formatDate } from '../render.js';
import { loadPlanPage } from './plan.js';

type PlanParams = { slug: string; year: string };
type QuarterParams = PlanParams & { q: string };
type ReviewParams = QuarterParams & { id: string };
type Query = Record<string, string | string[] | undefined>;
type Problem = { field: string; message: string };

const DATE_PARTS = ['day', 'month', 'year'] as const;
type DatePart = (typeof DATE_PARTS)[number];

function first(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' ? v.trim().slice(0, 200) : '';
}

/**
 * A GOV.UK date input's three fields, read as YYYY-MM-DD, or the problem with them in the Design
 * System's words and the parts to mark as wrong.
 */
export function readDateInput(
  values: Record<string, string>,
  prefix: string,
  label: string,
): { iso: string } | { message: string; wrong: DatePart[] } {
  const parts = Object.fromEntries(
    DATE_PARTS.map((p) => [p, (values[`${prefix}-${p}`] ?? '').trim()]),
  ) as Record<DatePart, string>;
  const missing = DATE_PARTS.filter((p) => !parts[p]);
  if (missing.length === DATE_PARTS.length) {
    return { message: `Enter the ${label.charAt(0).toLowerCase()}${label.slice(1)}`, wrong: [...DATE_PARTS] };
  }
  if (missing.length) return { message: `${label} must include a ${missing.join(' and ')}`, wrong: missing };
  if (!/^\d{1,2}$/.test(parts.day) || !/^\d{1,2}$/.test(parts.month)) {
    return { message: `${label} must be a real date`, wrong: [...DATE_PARTS] };
  }
  if (!/^\d{4}$/.test(parts.year)) return { message: 'Year must include 4 numbers', wrong: ['year'] };
  const iso = `${parts.year}-${parts.month.padStart(2, '0')}-${parts.day.padStart(2, '0')}`;
  if (!isIsoDate(iso)) return { message: `${label} must be a real date`, wrong: [...DATE_PARTS] };
  return { iso };
}

/** The three fields of a GOV.UK date input, with what was typed and which are wrong. */
function dateItems(prefix: string, values: Record<string, string>, wrong: readonly DatePart[]) {
  return DATE_PARTS.map((part) => ({
    name: part,
    label: part.charAt(0).toUpperCase() + part.slice(1),
    classes: `${part === 'year' ? 'govuk-input--width-4' : 'govuk-input--width-2'}${
      wrong.includes(part) ? ' govuk-input--error' : ''
    }`,
    value: values[`${prefix}-${part}`] ?? '',
  }));
}

function dateValues(prefix: string, iso: string): Record<string, string> {
  const [year = '', month = '', day = ''] = iso.split('-');
  return {
    [`${prefix}-day`]: String(Number(day)),
    [`${prefix}-month`]: String(Number(month)),
    [`${prefix}-year`]: year,
  };
}

/**
 * The error summary for a form: each problem links to its field, a date input's to its first
 * wrong part; a problem the form has no field for links to the form's first field.
 */
function pageErrors(problems: readonly Problem[], anchors: Record<string, string>, firstField: string) {
  const known = problems.map((p) => (p.field in anchors ? p : { ...p, field: firstField }));
  const errors: FormErrors = formErrors(known);
  for (const item of errors.errorList) {
    const field = item.href.slice(1);
    item.href = `#${anchors[field] ?? field}`;
  }
  return errors;
}

function phaseWords(cycle: CycleRow | undefined): { tag: string; tagClass: string; text: string } {
  if (!cycle) return { tag: 'Not opened', tagClass: 'govuk-tag--grey', text: 'Not opened for updates' };
  if (cycle.phase === 'closed') {
    return {
      tag: 'Closed',
      tagClass: 'govuk-tag--green',
      text: cycle.reportedOn
        ? `Reported to the board on ${formatDate(cycle.reportedOn)}`
        : 'Closed: the report to the board is frozen',
    };
  }
  return {
    tag: 'Open',
    tagClass: 'govuk-tag--blue',
    text: `Open for updates, due ${formatDate(cycle.dueOn)}`,
  };
}

/** "7 April 2025 (7 days before the due date)", one a reminder round. */
function reminderWords(cycle: CycleRow): string[] {
  return cycle.reminderOffsets.map(
    (offset) => `${formatDate(reminderDate(cycle.dueOn, offset))} (${offsetLabel(offset)})`,
  );
}

/**
 * A row of the board. `reviewer` is the reader when they review updates and the quarter is open;
 * a reviewer gets no Review link for an action they lead.
 */
function boardRowView(
  row: BoardRow,
  base: string,
  qbase: string,
  partnershipId: number,
  reviewer: Member | undefined,
) {
  const mayReview =
    reviewer !== undefined &&
    canReviewUpdate(reviewer, {
      partnershipId,
      organisationIds: row.leadOrganisationIds,
      personIds: row.leadPersonIds,
    });
  return {
    ...row,
    aimHref: `${base}/aims/${row.aimNumber}#action-${row.actionIndex}`,
    firstLine: row.description.split('\n')[0]?.trim() ?? '',
    reviewHref:
      mayReview && row.state === 'submitted' ? `${qbase}/actions/${row.actionId}/review` : undefined,
  };
}

function stateCounts(counts: Record<SubmissionState, number>) {
  return SUBMISSION_STATES.map((state) => ({
    state,
    label: SUBMISSION_STATE_LABELS[state],
    count: counts[state],
  }));
}

function countStates(rows: readonly BoardRow[]): Record<SubmissionState, number> {
  const counts = Object.fromEntries(SUBMISSION_STATES.map((s) => [s, 0])) as Record<SubmissionState, number>;
  for (const row of rows) counts[row.state] += 1;
  return counts;
}

/** sosafe-2024-25-q4-as-reported-2025-04-17 */
function snapshotFileName(slug: string, snapshot: QuarterSnapshot): string {
  return `${slug.replace(/[^\w-]/g, '')}-${planYearSlug(snapshot.planYear)}-q${snapshot.quarter}-as-reported-${snapshot.reportedOn}`;
}

export function registerQuarterRoutes(app: FastifyInstance, services: Services, config: Config): void {
  // Without a mail server the requests wait in the Outbox: the page must not say they were emailed.
  const viaOutbox = services.mailer.transport === 'outbox';
  const outboxNote = viaOutbox
    ? '. No mail server is set up, so the emails are in the Outbox: send them on from there'
    : '';
  const links = (request: FastifyRequest): Links => ({
    baseUrl: config.publicUrl ?? `${request.protocol}://${request.host}`,
  });

  /** The plan, the quarter asked for, and what the reader may do in it. */
  async function quarterPage(request: FastifyRequest, params: QuarterParams) {
    const page = await loadPlanPage(services, request, params);
    const quarter = /^[1-4]$/.test(params.q) ? parseQuarter(params.q) : undefined;
    if (!quarter) throw new NotFoundError(`Quarter ${params.q}`);
    const partnershipId = page.partnership.id;
    const label = `Q${quarter} ${page.tree.plan.year}`;
    const qbase = `${page.base}/quarters/${quarter}`;
    return {
      ...page,
      quarter,
      label,
      qbase,
      runsCycle: canRunQuarterlyCycle(page.member, partnershipId),
      reviews: canReviewUpdates(page.member, partnershipId),
      view: {
        ...page.common,
        nav: 'quarters',
        quarter,
        quarterLabel: label,
        quarterMonths: quarterMonths(quarter),
        qbase,
      },
    };
  }
  type QuarterPage = Awaited<ReturnType<typeof quarterPage>>;

  function requireCoordinator(page: QuarterPage, may = page.runsCycle): void {
    if (!may) throw new ForbiddenError('Only the coordinator can run the quarterly cycle.');
  }

  // ——— The plan's four quarters ———
  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/quarters', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    const cycles = await services.cycles.list(page.actor, page.tree.plan.id);
    const quarters = QUARTERS.map((quarter) => {
      const cycle = cycles.find((c) => c.quarter === quarter);
      return {
        quarter,
        months: quarterMonths(quarter),
        href: `${page.base}/quarters/${quarter}`,
        cycle,
        phase: phaseWords(cycle),
      };
    });
    return reply.page('quarters/list.njk', {
      ...page.common,
      title: `Quarterly updates ${page.tree.plan.year}`,
      nav: 'quarters',
      quarters,
      runsCycle: canRunQuarterlyCycle(page.member, page.partnership.id),
    });
  });

  // ——— A quarter: the form that opens it, or its submission board ———
  function openFormView(
    page: QuarterPage,
    values: Record<string, string>,
    extra: object = {},
    wrong: DatePart[] = [],
  ) {
    return {
      ...page.view,
      title: `Open ${page.label} for updates`,
      values,
      dueItems: dateItems('dueOn', values, wrong),
      ...extra,
    };
  }

  app.get<{ Params: QuarterParams; Querystring: Query }>(
    '/p/:slug/plans/:year/quarters/:q',
    async (request, reply) => {
      const page = await quarterPage(request, request.params);
      const cycle = await services.cycles.get(page.actor, page.tree.plan.id, page.quarter);
      if (!cycle && page.runsCycle) {
        return reply.page(
          'quarters/open.njk',
          openFormView(page, { reminderOffsets: formatReminderOffsets(DEFAULT_REMINDER_OFFSETS) }),
        );
      }
      const organisation = first(request.query.organisation);
      const state = first(request.query.state);
      const filter = {
        organisationId: /^\d{1,9}$/.test(organisation) ? Number(organisation) : undefined,
        state: isSubmissionState(state) ? state : undefined,
      };
      const filtered = filter.organisationId !== undefined || filter.state !== undefined;
      const [board, amendments] = await Promise.all([
        cycle ? services.cycles.board(page.actor, page.tree.plan.id, page.quarter, filter) : undefined,
        cycle?.phase === 'closed' ? services.cycles.amendments(page.actor, cycle.id) : [],
      ]);
      const open = cycle?.phase === 'open';
      return reply.page('quarters/board.njk', {
        ...page.view,
        title: `${page.label} updates`,
        cycle,
        phase: phaseWords(cycle),
        reminders: cycle ? reminderWords(cycle) : [],
        board,
        counts: board ? stateCounts(board.counts) : [],
        rows: board
          ? board.rows.map((r) =>
              boardRowView(
                r,
                page.base,
                page.qbase,
                page.partnership.id,
                page.reviews && open ? page.member : undefined,
              ),
            )
          : [],
        filtered,
        organisationItems: [
          { value: '', text: 'Any lead organisation', selected: filter.organisationId === undefined },
          ...(board?.organisations ?? []).map((o) => ({
            value: String(o.id),
            text: o.name,
            selected: o.id === filter.organisationId,
          })),
        ],
        stateItems: [
          { value: '', text: 'Any state', selected: filter.state === undefined },
          ...SUBMISSION_STATES.map((s) => ({
            value: s,
            text: SUBMISSION_STATE_LABELS[s],
            selected: s === filter.state,
          })),
        ],
        runsCycle: page.runsCycle && open,
        reviews: page.reviews && open,
        canAskOutstanding: page.runsCycle && open && (board?.counts.not_requested ?? 0) > 0,
        leadOfficer: page.member?.role === 'lead_officer',
        amendments,
      });
    },
  );

  app.post<{ Params: QuarterParams }>('/p/:slug/plans/:year/quarters/:q/open', async (request, reply) => {
    const page = await quarterPage(request, request.params);
    requireCoordinator(page);
    // Opened already (in another tab, or by another coordinator): its board says how it stands.
    const alreadyOpened = (message: string) => {
      reply.flash(`${message}: nothing has been sent again`);
      return reply.redirect(page.qbase, 303);
    };
    if (await services.cycles.get(page.actor, page.tree.plan.id, page.quarter)) {
      return alreadyOpened(`Q${page.quarter} has already been opened`);
    }
    const values = formBody(request.body);
    const due = readDateInput(values, 'dueOn', 'Due date');
    const again = (problems: Problem[], wrong: DatePart[]) => {
      reply.code(400);
      return reply.page(
        'quarters/open.njk',
        openFormView(
          page,
          values,
          pageErrors(
            problems,
            { dueOn: `dueOn-${wrong[0] ?? 'day'}`, reminderOffsets: 'reminderOffsets' },
            'dueOn',
          ),
          wrong,
        ),
      );
    };
    if ('message' in due) {
      return again([{ field: 'dueOn', message: due.message }], due.wrong);
    }
    try {
      const result = await services.cycles.open(
        page.actor,
        page.tree.plan.id,
        { quarter: page.quarter, dueOn: due.iso, reminderOffsets: values.reminderOffsets ?? '' },
        links(request),
      );
      const asked = `${countOf(result.emails, 'lead officer was', 'lead officers were')} ${
        viaOutbox ? 'asked' : 'emailed'
      } about ${countOf(result.requested, 'action', 'actions')}`;
      const nobody = result.notRequested
        ? `; ${countOf(result.notRequested, 'action has', 'actions have')} nobody to ask`
        : '';
      reply.flash(`Q${page.quarter} is open: ${asked}${nobody}${result.emails ? outboxNote : ''}`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // The quarter field is the address's: a problem with it means it was opened meanwhile.
      const opened = error.problems.find((p) => p.field === 'quarter');
      if (opened) return alreadyOpened(opened.message);
      const dateWrong = error.problems.some((p) => p.field === 'dueOn') ? [...DATE_PARTS] : [];
      return again(error.problems, dateWrong);
    }
    return reply.redirect(page.qbase, 303);
  });

  app.post<{ Params: QuarterParams }>('/p/:slug/plans/:year/quarters/:q/requests', async (request, reply) => {
    const page = await quarterPage(request, request.params);
    requireCoordinator(page);
    const cycle = await services.cycles.get(page.actor, page.tree.plan.id, page.quarter);
    if (cycle?.phase !== 'open') {
      reply.flash(
        cycle
          ? `Q${page.quarter} is closed: nobody more can be asked for its updates`
          : `Q${page.quarter} is not open for updates yet`,
      );
      return reply.redirect(page.qbase, 303);
    }
    try {
      const result = await services.cycles.requestOutstanding(page.actor, cycle.id, links(request));
      reply.flash(
        result.requested
          ? `Asked for ${countOf(result.requested, 'more update', 'more updates')}: ${countOf(
              result.emails,
              'lead officer was',
              'lead officers were',
            )} ${viaOutbox ? 'asked' : 'emailed'}${result.emails ? outboxNote : ''}`
          : 'There was nobody new to ask: every action with someone to ask had been asked already',
      );
    } catch (error) {
      if (!(error instanceof ValidationError || error instanceof ConflictError)) throw error;
      reply.flash(error instanceof ValidationError ? error.problems[0]?.message : error.message);
    }
    return reply.redirect(page.qbase, 303);
  });

  // ——— JAG review of one submitted update ———
  async function reviewPage(request: FastifyRequest, params: ReviewParams) {
    const page = await quarterPage(request, params);
    if (!page.reviews) {
      throw new ForbiddenError(
        'Only the coordinator, and the reviewers the coordinator names, review updates.',
      );
    }
    const id = /^\d{1,9}$/.test(params.id) ? Number(params.id) : 0;
    const found = findAction(page.tree, id);
    const data = await services.progress.reviewData(page.actor, found.action.id, page.quarter);
    return { page, ...found, ...data };
  }
  type ReviewPage = Awaited<ReturnType<typeof reviewPage>>;

  function reviewView(ctx: ReviewPage, values: Record<string, string>, extra: object = {}) {
    const { update, cycle } = ctx;
    const closed = cycle?.phase === 'closed';
    return {
      ...ctx.page.view,
      title: `Review the ${ctx.page.label} update for aim ${ctx.aim.number}, action ${ctx.index}`,
      section: ctx.section,
      aim: ctx.aim,
      action: ctx.action,
      actionIndex: ctx.index,
      update,
      previous: ctx.previous,
      cycle,
      closed,
      reviewable: (update?.state === 'submitted' || update?.state === 'accepted') && !closed,
      values,
      decisionItems: [
        { value: 'accept', text: 'Accept', checked: values.decision === 'accept' },
        {
          value: 'return',
          text: 'Return to the lead officer',
          hint: { text: 'They are emailed your comment and can change the update and submit it again.' },
          checked: values.decision === 'return',
        },
      ],
      ...extra,
    };
  }

  app.get<{ Params: ReviewParams }>(
    '/p/:slug/plans/:year/quarters/:q/actions/:id/review',
    async (request, reply) => {
      const ctx = await reviewPage(request, request.params);
      return reply.page(
        'quarters/review.njk',
        reviewView(ctx, { version: ctx.update ? String(ctx.update.version) : '' }),
      );
    },
  );

  app.post<{ Params: ReviewParams }>(
    '/p/:slug/plans/:year/quarters/:q/actions/:id/review',
    async (request, reply) => {
      const ctx = await reviewPage(request, request.params);
      const values = formBody(request.body);
      const what = `The ${ctx.page.label} update for aim ${ctx.aim.number}, action ${ctx.index}`;
      if (!ctx.update) {
        reply.flash(`${what} has not been sent yet: there is nothing to review`);
        return reply.redirect(ctx.page.qbase, 303);
      }
      try {
        const result = await services.progress.review(
          ctx.page.actor,
          ctx.update.id,
          { decision: values.decision, comment: values.comment, version: values.version },
          links(request),
        );
        reply.flash(
          result.state === 'accepted'
            ? `${what} has been accepted`
            : `${what} has been returned to the lead officer${
                result.emails ? ` (${countOf(result.emails, 'email', 'emails')} sent)` : ''
              }`,
        );
        return reply.redirect(ctx.page.qbase, 303);
      } catch (error) {
        if (error instanceof ValidationError) {
          reply.code(400);
          return reply.page(
            'quarters/review.njk',
            reviewView(
              ctx,
              values,
              pageErrors(error.problems, { decision: 'decision', comment: 'comment' }, 'decision'),
            ),
          );
        }
        if (error instanceof ConflictError) {
          // Show the update as it is now, with what was chosen, ready to send again.
          const fresh = await reviewPage(request, request.params);
          reply.code(409);
          return reply.page(
            'quarters/review.njk',
            reviewView(
              fresh,
              { ...values, version: fresh.update ? String(fresh.update.version) : '' },
              {
                conflict: true,
              },
            ),
          );
        }
        throw error;
      }
    },
  );

  // ——— Closing the quarter ———
  async function closePage(request: FastifyRequest, params: QuarterParams, reply: FastifyReply) {
    const page = await quarterPage(request, params);
    requireCoordinator(page);
    const cycle = await services.cycles.get(page.actor, page.tree.plan.id, page.quarter);
    if (!cycle) {
      reply.flash(`Q${page.quarter} has not been opened for updates, so there is nothing to close`);
      return { redirect: reply.redirect(page.qbase, 303) };
    }
    if (cycle.phase === 'closed') {
      reply.flash(`Q${page.quarter} is already closed: this is what the board was shown`);
      return { redirect: reply.redirect(`${page.qbase}/snapshot`, 303) };
    }
    return { page, cycle };
  }

  async function closeView(
    page: QuarterPage,
    cycle: CycleRow,
    values: Record<string, string>,
    extra: object = {},
    wrong: DatePart[] = [],
  ) {
    const board = await services.cycles.board(page.actor, page.tree.plan.id, page.quarter);
    const counts = board.counts;
    const awaiting = SUBMISSION_STATES.filter(awaitsSubmission).reduce((n, s) => n + counts[s], 0);
    return {
      ...page.view,
      title: `Close ${page.label}`,
      cycle,
      phase: phaseWords(cycle),
      outstanding: {
        awaiting,
        requested: counts.requested,
        draft: counts.draft,
        returned: counts.returned,
        unreviewed: counts.submitted,
        notRequested: counts.not_requested,
        any: awaiting + counts.submitted + counts.not_requested > 0,
      },
      total: board.total,
      values,
      reportedItems: dateItems('reportedOn', values, wrong),
      ...extra,
    };
  }

  app.get<{ Params: QuarterParams }>('/p/:slug/plans/:year/quarters/:q/close', async (request, reply) => {
    const found = await closePage(request, request.params, reply);
    if ('redirect' in found) return found.redirect;
    const values = {
      ...dateValues('reportedOn', londonDate(new Date())),
      version: String(found.cycle.version),
    };
    return reply.page('quarters/close.njk', await closeView(found.page, found.cycle, values));
  });

  app.post<{ Params: QuarterParams }>('/p/:slug/plans/:year/quarters/:q/close', async (request, reply) => {
    const found = await closePage(request, request.params, reply);
    if ('redirect' in found) return found.redirect;
    const { page, cycle } = found;
    const values = formBody(request.body);
    const anchors = (wrong: DatePart[]) => ({ reportedOn: `reportedOn-${wrong[0] ?? 'day'}` });
    const reported = readDateInput(values, 'reportedOn', 'Date of the board meeting');
    if ('message' in reported) {
      reply.code(400);
      return reply.page(
        'quarters/close.njk',
        await closeView(
          page,
          cycle,
          values,
          pageErrors(
            [{ field: 'reportedOn', message: reported.message }],
            anchors(reported.wrong),
            'reportedOn',
          ),
          reported.wrong,
        ),
      );
    }
    try {
      await services.cycles.close(page.actor, cycle.id, {
        reportedOn: reported.iso,
        version: values.version,
      });
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return reply.page(
          'quarters/close.njk',
          await closeView(
            page,
            cycle,
            values,
            pageErrors(error.problems, anchors([...DATE_PARTS]), 'reportedOn'),
            error.problems.some((p) => p.field === 'reportedOn') ? [...DATE_PARTS] : [],
          ),
        );
      }
      if (error instanceof ConflictError) {
        const now = await services.cycles.get(page.actor, page.tree.plan.id, page.quarter);
        if (now?.phase === 'closed') {
          reply.flash(`Q${page.quarter} had already been closed: this is what the board was shown`);
          return reply.redirect(`${page.qbase}/snapshot`, 303);
        }
        reply.code(409);
        const current = now ?? cycle;
        return reply.page(
          'quarters/close.njk',
          await closeView(page, current, { ...values, version: String(current.version) }, { conflict: true }),
        );
      }
      throw error;
    }
    reply.flash(`${page.label} is closed: the report as the board sees it is frozen`);
    return reply.redirect(`${page.qbase}/snapshot`, 303);
  });

  // ——— As reported to the board ———
  async function snapshotOf(request: FastifyRequest, params: QuarterParams) {
    const page = await quarterPage(request, params);
    const snapshot = await services.cycles.snapshot(page.actor, page.tree.plan.id, page.quarter);
    if (!snapshot) throw new NotFoundError(`The report of ${page.label} to the board`);
    return { page, snapshot };
  }

  app.get<{ Params: QuarterParams }>('/p/:slug/plans/:year/quarters/:q/snapshot', async (request, reply) => {
    const { page, snapshot } = await snapshotOf(request, request.params);
    const amendments = await services.cycles.amendments(page.actor, snapshot.cycleId);
    const boardByAction = new Map(snapshot.board.map((row) => [row.actionId, row]));
    const sections = snapshot.tree.sections.map((section) => ({
      ...section,
      aims: section.aims.map((aim) => ({
        ...aim,
        actions: aim.actions.map((action, index) => ({
          ...action,
          index: index + 1,
          update: action.progress.find((p) => p.quarter === snapshot.quarter),
          board: boardByAction.get(action.id),
        })),
      })),
    }));
    const file = `${page.qbase}/snapshot`;
    return reply.page('quarters/snapshot.njk', {
      ...page.view,
      title: `${page.label} as reported to the board on ${formatDate(snapshot.reportedOn)}`,
      snapshot,
      sections,
      counts: stateCounts(countStates(snapshot.board)),
      changes: snapshot.changes.map((c) => ({ ...c, kindLabel: PLAN_CHANGE_LABELS[c.kind] ?? c.kind })),
      amendments,
      csvHref: `${file}.csv`,
      jsonHref: `${file}.json`,
    });
  });

  app.get<{ Params: QuarterParams }>(
    '/p/:slug/plans/:year/quarters/:q/snapshot.csv',
    async (request, reply) => {
      const { page, snapshot } = await snapshotOf(request, request.params);
      // With the actions' ids, so the board's CSV lines up with the plan's spreadsheet.
      const csv = writePlanCsv(planTreeToTable(snapshot.tree));
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="${snapshotFileName(page.partnership.slug, snapshot)}.csv"`,
        )
        .header('cache-control', 'no-store')
        .send(csv);
    },
  );

  app.get<{ Params: QuarterParams }>(
    '/p/:slug/plans/:year/quarters/:q/snapshot.json',
    async (request, reply) => {
      const { page, snapshot } = await snapshotOf(request, request.params);
      return reply
        .type('application/json; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="${snapshotFileName(page.partnership.slug, snapshot)}.json"`,
        )
        .header('cache-control', 'no-store')
        .send(`${JSON.stringify(snapshot, null, 2)}\n`);
    },
  );
}
