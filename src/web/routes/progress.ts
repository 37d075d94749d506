/**
 * Recording progress on an action for a quarter: the lead officer's form, and "Your Q4 updates",
 * one page with every action the signed-in person leads. When the quarter was opened as a cycle
 * the pages show its due date, mark late submissions, show a returned update's comment, and after
 * the quarter is closed save only amendments.
 */
import type { FastifyInstance } from 'fastify';
import {
  cyclePhase,
  isLate,
  SUBMISSION_STATE_LABELS,
  SUBMISSION_STATE_TAG_CLASSES,
  type UpdateState,
} from '../../domain/cycles.js';
import {
  parsePlanYear,
  parseQuarter,
  planYearSlug,
  quarterOfDate,
  QUARTERS,
  type Quarter,
} from '../../domain/quarters.js';
import { STATUSES, STATUS_LABELS } from '../../domain/status.js';
import type { CycleRow } from '../../services/cycles.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { findAction, type ActionNode, type PlanTree } from '../../services/plan-read.js';
import type { ProgressRow, SavedProgress, UpdateFormData } from '../../services/progress.js';
import { partnershipContext } from '../context.js';
import { formBody, formErrors, safeReturnTo } from '../forms.js';
import { loadPlanPage } from './plan.js';

type Params = { slug: string; year: string; id: string };
type ListParams = { slug: string; year: string; q: string };
type PlanPage = Awaited<ReturnType<typeof loadPlanPage>>;
type Intent = 'draft' | 'submit';

/** The quarter a new update is most likely for: today's quarter of the plan year, clamped to it. */
function defaultQuarter(tree: PlanTree, now = new Date()): Quarter {
  const inYear = quarterOfDate(tree.plan.year, now);
  if (inYear) return inYear;
  return now.toISOString().slice(0, 10) < tree.plan.startsOn ? 1 : 4;
}

/** The form's buttons say draft or submit; a form without one (older pages, scripts) submits. */
function intentOf(value: string | undefined): Intent {
  return value === 'draft' ? 'draft' : 'submit';
}

/** Where to go back to after saving: only a page of the same plan. */
function returnToWithin(base: string, value: unknown): string | undefined {
  const path = safeReturnTo(value);
  return path && path.startsWith(`${base}/`) ? path : undefined;
}

/** What the pages say about a quarter's cycle: due when, late already, or closed and reported. */
function cycleView(cycle: CycleRow | undefined, now = new Date()) {
  if (!cycle) return undefined;
  const phase = cyclePhase(cycle);
  return {
    phase,
    dueOn: cycle.dueOn,
    pastDue: phase === 'open' && isLate(cycle.dueOn, now),
    closed: phase === 'closed',
    /** The board date; the day it was closed if the snapshot's date is not known. */
    reportedOn: cycle.reportedOn ?? cycle.closedAt,
  };
}

function stateTag(state: UpdateState | undefined) {
  if (!state) return { text: 'No update yet', classes: 'govuk-tag--grey' };
  return { text: SUBMISSION_STATE_LABELS[state], classes: SUBMISSION_STATE_TAG_CLASSES[state] };
}

/** The latest update of an earlier quarter, for context (the tree never holds drafts). */
function previousUpdate(action: ActionNode, quarter: Quarter) {
  return [...action.progress].reverse().find((p) => p.quarter !== null && p.quarter < quarter);
}

function statusItems(current: string | null | undefined) {
  return STATUSES.map((s) => ({ value: s, text: STATUS_LABELS[s], checked: current === s }));
}

interface FormValues {
  text?: string | undefined;
  status?: string | null | undefined;
  evidenceUrl?: string | null | undefined;
  version?: number | string | undefined;
}

function valuesOf(update: ProgressRow | undefined): FormValues {
  return {
    text: update?.text ?? '',
    status: update?.status ?? undefined,
    evidenceUrl: update?.evidenceUrl ?? '',
    version: update?.version,
  };
}

function savedMessage(quarter: Quarter, aimNumber: string, saved: SavedProgress, intent: Intent): string {
  const what = `Your Q${quarter} update for aim ${aimNumber}`;
  if (saved.amendment) return `${what} has been saved as an amendment`;
  const state = saved.state ?? (intent === 'draft' ? 'draft' : 'submitted');
  if (state === 'draft') return `${what} has been saved as a draft`;
  return `${what} has been submitted${saved.late ? ' (late)' : ''}`;
}

/** Lead officers and the coordinator send quarterly updates; partners and the board read them. */
function mayListUpdates(page: PlanPage): boolean {
  const role = page.member?.role;
  return role === 'lead_officer' || role === 'coordinator';
}

/**
 * The quarters whose cycle is open, for a link to "Your updates for Q4" on the plan's pages: only
 * for lead officers and the coordinator.
 */
export async function openQuartersForUpdates(
  services: Services,
  page: PlanPage,
  /** The request's read stamp (services/read-cache.ts), on pages. */
  stamp?: string,
): Promise<Quarter[]> {
  if (!mayListUpdates(page)) return [];
  const cycles = await services.cycles.list(page.actor, page.tree.plan.id, stamp);
  return cycles.filter((c) => cyclePhase(c) === 'open').map((c) => c.quarter);
}

export function registerProgressRoutes(app: FastifyInstance, services: Services): void {
  // ——— One action's update ———

  /** stamp: given by the POST, whose reads here are of the plan as it stood before (read-cache.ts). */
  async function load(request: Parameters<typeof loadPlanPage>[1], params: Params, stamp?: string) {
    const page = await loadPlanPage(services, request, params, { stamp });
    const found = findAction(page.tree, Number(params.id));
    if (!(await services.progress.mayUpdate(page.actor, found.action.id))) {
      throw new ForbiddenError(
        'Only the action’s lead officers and the coordinator can record its progress.',
      );
    }
    return { page, ...found };
  }

  function formView(
    ctx: Awaited<ReturnType<typeof load>>,
    quarter: Quarter,
    data: UpdateFormData,
    values: FormValues,
    returnTo: string | undefined,
    extra: object = {},
  ) {
    const update = data.update;
    const cycle = cycleView(data.cycle);
    return {
      ...ctx.page.common,
      title: `${update ? 'Change' : 'Add'} the Q${quarter} progress update`,
      nav: 'plan',
      section: ctx.section,
      aim: ctx.aim,
      action: ctx.action,
      actionIndex: ctx.index,
      quarter,
      update,
      previous: data.previous,
      cycle,
      values,
      returnTo,
      backHref: returnTo ?? `${ctx.page.base}/aims/${ctx.aim.number}`,
      quarterItems: QUARTERS.map((q) => ({
        value: String(q),
        text: `Q${q}`,
        checked: q === quarter,
        hint: {
          text:
            (q === quarter && update) || ctx.action.progress.some((p) => p.quarter === q)
              ? 'Has an update: you will change it'
              : 'No update yet',
        },
      })),
      statusItems: statusItems(values.status),
      ...extra,
    };
  }

  app.get<{ Params: Params; Querystring: { quarter?: string; returnTo?: string } }>(
    '/p/:slug/plans/:year/actions/:id/progress',
    async (request, reply) => {
      const ctx = await load(request, request.params);
      const quarter = parseQuarter(request.query.quarter ?? '') ?? defaultQuarter(ctx.page.tree);
      const data = await services.progress.formData(ctx.page.actor, ctx.action.id, quarter);
      const returnTo = returnToWithin(ctx.page.base, request.query.returnTo);
      return reply.page('progress/form.njk', formView(ctx, quarter, data, valuesOf(data.update), returnTo));
    },
  );

  app.post<{ Params: Params }>('/p/:slug/plans/:year/actions/:id/progress', async (request, reply) => {
    // No read of the plan before the save: the save finds the action in this plan, checks the
    // permission, the form, the cycle and the version in its own transaction, and says where the
    // action is shown. The plan is read only to show the form again.
    const { params } = request;
    const year = parsePlanYear(params.year);
    if (!year) throw new NotFoundError(`The plan ${params.year}`);
    // The request's stamp serves the reads before the write (read-cache.ts).
    const { actor, partnership } = await partnershipContext(
      services,
      request,
      params.slug,
      request.startStamp,
    );
    const base = `/p/${partnership.slug}/plans/${planYearSlug(year)}`;
    const body = formBody(request.body);
    const quarter = parseQuarter(body.quarter ?? '');
    const intent = intentOf(body.intent);
    const returnTo = returnToWithin(base, body.returnTo);
    const values: FormValues = {
      text: body.text ?? '',
      status: body.status,
      evidenceUrl: body.evidenceUrl ?? '',
      version: body.version,
    };
    let saved: Awaited<ReturnType<Services['progress']['save']>>;
    try {
      saved = await services.progress.save(
        actor,
        Number(params.id),
        {
          quarter: body.quarter,
          status: body.status,
          text: body.text ?? '',
          // Blank means no link.
          evidenceUrl: body.evidenceUrl ?? '',
          version: body.version || undefined,
          intent,
        },
        { within: { partnershipId: partnership.id, year } },
      );
    } catch (error) {
      if (!(error instanceof ValidationError || error instanceof ConflictError)) throw error;
      // Nothing was written: the plan as it stood when the request came.
      const ctx = await load(request, params, request.startStamp);
      const shownQuarter = quarter ?? defaultQuarter(ctx.page.tree);
      const data = await services.progress.formData(ctx.page.actor, ctx.action.id, shownQuarter);
      if (error instanceof ValidationError) {
        reply.code(400);
        return reply.page(
          'progress/form.njk',
          formView(ctx, shownQuarter, data, values, returnTo, formErrors(error.problems)),
        );
      }
      const current = error.current as {
        text: string;
        status: string | null;
        version: number;
        recordedAt: Date | null;
      };
      reply.code(409);
      return reply.page(
        'progress/form.njk',
        formView(ctx, shownQuarter, data, { ...values, version: current.version }, returnTo, {
          conflict: { current },
        }),
      );
    }
    const place = saved.place!;
    reply.flash(savedMessage(quarter ?? 1, place.aimNumber, saved, intent));
    return reply.redirect(returnTo ?? `${base}/aims/${place.aimNumber}#action-${place.actionNumber}`, 303);
  });

  // ——— "Your Q4 updates": every action the person leads, on one page ———

  async function loadList(request: Parameters<typeof loadPlanPage>[1], params: ListParams) {
    const page = await loadPlanPage(services, request, params);
    const quarter = parseQuarter(params.q);
    if (!quarter || String(quarter) !== params.q) throw new NotFoundError(`Quarter ${params.q}`);
    if (!mayListUpdates(page)) {
      throw new ForbiddenError('Only lead officers and the coordinator send quarterly updates.');
    }
    const cycle = await services.cycles.get(page.actor, page.tree.plan.id, quarter);
    const led = new Set(await services.progress.ledActionIds(page.actor, page.tree.plan.id));
    const items = page.tree.sections.flatMap((section) =>
      section.aims.flatMap((aim) =>
        aim.actions
          .map((action, i) => ({ section, aim, action, index: i + 1 }))
          .filter((item) => led.has(item.action.id)),
      ),
    );
    const updates = items.length
      ? await services.progress.updatesFor(
          page.actor,
          items.map((item) => item.action.id),
          quarter,
        )
      : [];
    const updateOf = new Map(updates.map((u) => [u.actionId, u]));
    const url = `${page.base}/quarters/${quarter}/updates`;
    return { page, quarter, cycle, items, updateOf, url };
  }

  type ListContext = Awaited<ReturnType<typeof loadList>>;

  function listView(
    ctx: ListContext,
    valuesFor: (actionId: number) => FormValues,
    extra: { errors?: Record<string, { text: string }>; errorList?: unknown[]; conflicts?: number[] } = {},
  ) {
    const { page, quarter } = ctx;
    const cycle = cycleView(ctx.cycle);
    const entries = ctx.items.map(({ aim, action, index }) => {
      const update = ctx.updateOf.get(action.id);
      const values = valuesFor(action.id);
      return {
        id: action.id,
        aim,
        index,
        action,
        update,
        tag: stateTag(update?.state),
        previous: previousUpdate(action, quarter),
        values,
        statusItems: statusItems(values.status),
        conflict: extra.conflicts?.includes(action.id) ?? false,
        formHref: `${page.base}/actions/${action.id}/progress?quarter=${quarter}&returnTo=${encodeURIComponent(ctx.url)}`,
      };
    });
    return {
      ...page.common,
      title: `Your Q${quarter} ${page.tree.plan.year} updates`,
      nav: 'plan',
      quarter,
      cycle,
      entries,
      formAction: ctx.url,
      ...extra,
    };
  }

  app.get<{ Params: ListParams }>('/p/:slug/plans/:year/quarters/:q/updates', async (request, reply) => {
    const ctx = await loadList(request, request.params);
    return reply.page(
      'progress/updates.njk',
      listView(ctx, (id) => valuesOf(ctx.updateOf.get(id))),
    );
  });

  app.post<{ Params: ListParams }>('/p/:slug/plans/:year/quarters/:q/updates', async (request, reply) => {
    const ctx = await loadList(request, request.params);
    const body = formBody(request.body);
    const intent = intentOf(body.intent);
    const typed = (id: number): FormValues => ({
      status: body[`status-${id}`],
      text: body[`text-${id}`] ?? '',
      evidenceUrl: body[`evidenceUrl-${id}`] ?? '',
      version: body[`version-${id}`] || undefined,
    });
    const entries = ctx.items
      .map(({ action }) => action.id)
      .filter((id) => !unchangedAndDone(ctx.updateOf.get(id), typed(id), intent))
      .map((id) => ({ actionId: id, ...typed(id) }));
    let saved: SavedProgress[];
    try {
      saved = entries.length
        ? await services.progress.saveMany(
            ctx.page.actor,
            ctx.page.tree.plan.id,
            ctx.quarter,
            entries,
            intent,
          )
        : [];
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return reply.page('progress/updates.njk', listView(ctx, typed, formErrors(error.problems)));
      }
      if (error instanceof ConflictError) {
        // Someone changed one of these updates meanwhile: nothing was saved. Show theirs, keep
        // what was typed, and take the current versions so a second save replaces them knowingly.
        const fresh = await loadList(request, request.params);
        const conflicts = fresh.items
          .map(({ action }) => action.id)
          .filter((id) => String(fresh.updateOf.get(id)?.version ?? '') !== String(typed(id).version ?? ''));
        reply.code(409);
        return reply.page(
          'progress/updates.njk',
          listView(fresh, (id) => ({ ...typed(id), version: fresh.updateOf.get(id)?.version }), {
            conflicts,
          }),
        );
      }
      throw error;
    }
    const n = saved.length;
    const closed = cyclePhase(ctx.cycle) === 'closed';
    const actions = `${n} action${n === 1 ? '' : 's'}`;
    reply.flash(
      n === 0
        ? 'Nothing was saved: no update was entered or changed'
        : closed
          ? `Your amendments to Q${ctx.quarter} for ${actions} have been saved`
          : intent === 'draft'
            ? `Your Q${ctx.quarter} updates for ${actions} have been saved as drafts`
            : `Your Q${ctx.quarter} updates for ${actions} have been submitted`,
    );
    return reply.redirect(ctx.url, 303);
  });
}

/**
 * The one-page list is sent whole, with every update already filled in: an update left as it was
 * is not saved again when that would change nothing (already submitted or accepted; already a
 * draft when saving drafts) — otherwise "Submit all" would send accepted updates back for review.
 */
function unchangedAndDone(update: ProgressRow | undefined, typed: FormValues, intent: Intent): boolean {
  if (!update) return false;
  const same =
    (typed.text ?? '').trim() === update.text.trim() &&
    (typed.status ?? null) === (update.status ?? null) &&
    (typed.evidenceUrl ?? '').trim() === (update.evidenceUrl ?? '');
  if (!same) return false;
  if (update.state === 'submitted' || update.state === 'accepted') return true;
  return update.state === 'draft' && intent === 'draft';
}
