/**
 * An aim's History page, and the coordinator's audit trail of the whole partnership (filtered by
 * a GET form, so a filtered view's address can be shared) with its CSV download.
 */
import type { FastifyInstance } from 'fastify';
import { londonDate } from '../../domain/cycles.js';
import { planYearSlug } from '../../domain/quarters.js';
import { ValidationError } from '../../services/errors.js';
import type { TrailFilters } from '../../services/history.js';
import { findAim } from '../../services/plan-read.js';
import type { Services } from '../../services/index.js';
import { aimTabs } from '../aim-tabs.js';
import { partnershipContext } from '../context.js';
import { formErrors } from '../forms.js';
import { loadPlanPage } from './plan.js';

type AimParams = { slug: string; year: string; number: string };
type Query = Record<string, string | string[] | undefined>;

const DATE_PARTS = ['day', 'month', 'year'] as const;
/** The query's filter fields, as the GET form names them. */
const FILTER_FIELDS = [
  'person',
  'organisation',
  'kind',
  ...DATE_PARTS.map((p) => `from-${p}`),
  ...DATE_PARTS.map((p) => `to-${p}`),
];

function first(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' ? v.trim().slice(0, 200) : '';
}

/**
 * A GOV.UK date input's three fields as YYYY-MM-DD for the service to check; '' when all are
 * blank; something the service will refuse when only some are given.
 */
function isoDate(day: string, month: string, year: string): string {
  if (!day && !month && !year) return '';
  return `${year.padStart(4, '0')}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}

/** What the filter form sent: the raw values (to show again and to keep in links) and the filters. */
export function readTrailQuery(query: Query) {
  const values: Record<string, string> = {};
  for (const field of [...FILTER_FIELDS, 'page']) values[field] = first(query[field]);
  const filters: TrailFilters = {
    person: values.person,
    organisation: values.organisation,
    kind: values.kind,
    from: isoDate(values['from-day']!, values['from-month']!, values['from-year']!),
    to: isoDate(values['to-day']!, values['to-month']!, values['to-year']!),
    page: values.page,
  };
  const params = new URLSearchParams();
  for (const field of FILTER_FIELDS) if (values[field]) params.set(field, values[field]!);
  return { values, filters, filterQuery: params.toString(), filtered: params.size > 0 };
}

function withPage(filterQuery: string, page: number): string {
  const params = new URLSearchParams(filterQuery);
  if (page > 1) params.set('page', String(page));
  const query = params.toString();
  return query ? `?${query}` : '?';
}

/** GOV.UK pagination: previous and next, the first and last pages, and those either side of this one. */
export function paginationFor(path: string, filterQuery: string, page: number, pageCount: number) {
  if (pageCount <= 1) return undefined;
  const items: ({ number: number; href: string; current: boolean } | { ellipsis: true })[] = [];
  let last = 0;
  for (let n = 1; n <= pageCount; n++) {
    if (n !== 1 && n !== pageCount && Math.abs(n - page) > 1) continue;
    if (n - last > 1) items.push({ ellipsis: true });
    items.push({ number: n, href: `${path}${withPage(filterQuery, n)}`, current: n === page });
    last = n;
  }
  return {
    items,
    previous: page > 1 ? { href: `${path}${withPage(filterQuery, page - 1)}` } : undefined,
    next: page < pageCount ? { href: `${path}${withPage(filterQuery, page + 1)}` } : undefined,
  };
}

/** Error links go to the first field of a date input, as the design system asks. */
function trailErrors(problems: readonly { field: string; message: string }[]) {
  const errors = formErrors(problems);
  for (const item of errors.errorList) {
    if (item.href === '#from' || item.href === '#to') item.href = `${item.href}-day`;
  }
  return errors;
}

/** The three fields of a GOV.UK date input, with what was typed and the error state. */
function dateItems(prefix: 'from' | 'to', values: Record<string, string>, wrong: boolean) {
  const error = wrong ? ' govuk-input--error' : '';
  return DATE_PARTS.map((part) => ({
    name: part,
    label: part.charAt(0).toUpperCase() + part.slice(1),
    classes: `${part === 'year' ? 'govuk-input--width-4' : 'govuk-input--width-2'}${error}`,
    value: values[`${prefix}-${part}`],
  }));
}

export function registerHistoryRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: AimParams }>('/p/:slug/plans/:year/aims/:number/history', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    const { section, aim } = findAim(page.tree, request.params.number);
    const [entries, tabs] = await Promise.all([
      services.history.aimHistory(page.actor, aim.id),
      aimTabs(services, page.actor, aim.id, 'history'),
    ]);
    return reply.page('plan/aim-history.njk', {
      ...page.common,
      title: `History of aim ${aim.number}`,
      nav: 'plan',
      section,
      aim,
      entries,
      ...tabs,
    });
  });

  app.get<{ Params: { slug: string }; Querystring: Query }>('/p/:slug/audit', async (request, reply) => {
    const { actor, partnership, member } = await partnershipContext(services, request, request.params.slug);
    const query = readTrailQuery(request.query);
    let problems: { field: string; message: string }[] = [];
    let trail;
    try {
      trail = await services.history.auditTrail(actor, partnership.id, query.filters);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // Show what was wrong with the filters, and the trail without the ones that were.
      problems = error.problems;
      const wrong = new Set(problems.map((p) => p.field));
      const kept = Object.fromEntries(Object.entries(query.filters).filter(([field]) => !wrong.has(field)));
      trail = await services.history.auditTrail(actor, partnership.id, kept);
    }
    const year = await services.plans.currentPlanYear(actor, partnership);
    const path = `/p/${partnership.slug}/audit`;
    const choose = (options: { value: string; text: string }[], all: string, current: string | undefined) => [
      { value: '', text: all, selected: !current },
      ...options.map((o) => ({ ...o, selected: o.value === current })),
    ];
    if (problems.length) reply.code(400);
    return reply.page('audit/trail.njk', {
      title: 'Audit trail',
      nav: 'audit',
      partnership,
      member,
      base: year ? `/p/${partnership.slug}/plans/${planYearSlug(year)}` : undefined,
      currentYear: year,
      path,
      trail,
      values: query.values,
      filtered: query.filtered,
      csvHref: `${path}.csv${query.filterQuery ? `?${query.filterQuery}` : ''}`,
      pagination: paginationFor(path, query.filterQuery, trail.page, trail.pageCount),
      firstShown: trail.total === 0 ? 0 : (trail.page - 1) * trail.pageSize + 1,
      lastShown: Math.min(trail.page * trail.pageSize, trail.total),
      personItems: choose(trail.options.people, 'Anyone', query.values.person),
      organisationItems: choose(trail.options.organisations, 'Any organisation', query.values.organisation),
      kindItems: choose(trail.options.kinds, 'Any kind', query.values.kind),
      fromItems: dateItems(
        'from',
        query.values,
        problems.some((p) => p.field === 'from'),
      ),
      toItems: dateItems(
        'to',
        query.values,
        problems.some((p) => p.field === 'to'),
      ),
      ...(problems.length ? trailErrors(problems) : {}),
    });
  });

  app.get<{ Params: { slug: string }; Querystring: Query }>('/p/:slug/audit.csv', async (request, reply) => {
    const { actor, partnership } = await partnershipContext(services, request, request.params.slug);
    const { filters } = readTrailQuery(request.query);
    const { csv } = await services.history.auditTrailCsv(actor, partnership.id, filters);
    return reply
      .type('text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="${partnership.slug.replace(/[^\w-]/g, '')}-audit-trail-${londonDate(new Date())}.csv"`,
      )
      .header('cache-control', 'no-store')
      .send(csv);
  });
}
