/**
 * Evidence: ASB case reviews (the Community Trigger). The register and its annual figures for
 * members (cases only for the coordinator and each case's officer: the service filters them);
 * the application, review, recommendation, outcome and settings forms; and the public page and
 * CSV of the four annual figures, for residents, with no sign-in and no cookie.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { writeCaseReviewFiguresCsv } from '../../documents/case-review-csv.js';
import {
  APPLICANT_RESPONSE_LABELS,
  APPLICANT_RESPONSES,
  CONTACT_PREFERENCE_LABELS,
  CONTACT_PREFERENCES,
  describeRule,
  TENURE_LABELS,
  TENURES,
  type AnnualFigures,
  type Tenure,
} from '../../domain/case-reviews.js';
import { ROLE_LABELS, type Role } from '../../domain/permissions.js';
import type { CaseReviewView } from '../../services/case-reviews.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { formBody, formErrors } from '../forms.js';
import { evidencePage } from './evidence.js';
import { PUBLIC_CACHE_CONTROL, residentPage } from './public.js';

type SlugParams = { slug: string };
type CaseParams = { slug: string; id: string };
type RecommendationParams = CaseParams & { rid: string };
type Page = Awaited<ReturnType<typeof evidencePage>>;
type Problem = { field: string; message: string };

const DATE_PARTS = ['day', 'month', 'year'] as const;
const NEW_COMPLAINT_ROWS = 3;

// ——— Dates in three boxes ———

/** The form's boxes of an ISO day. */
function dateValues(field: string, iso: string | null): Record<string, string> {
  if (!iso) return {};
  const [year = '', month = '', day = ''] = iso.split('-');
  return {
    [`${field}-day`]: String(Number(day)),
    [`${field}-month`]: String(Number(month)),
    [`${field}-year`]: year,
  };
}

/** One YYYY-MM-DD of three boxes: blank when all are; anything partial fails the service's check. */
function joinDate(values: Record<string, string>, field: string): string {
  const [day, month, year] = DATE_PARTS.map((p) => (values[`${field}-${p}`] ?? '').trim());
  return day || month || year ? `${year}-${month!.padStart(2, '0')}-${day!.padStart(2, '0')}` : '';
}

function dateInput(
  field: string,
  legend: string,
  values: Record<string, string>,
  errors: FormErrorMap,
  hint?: string,
) {
  const error = errors[field];
  return {
    id: field,
    namePrefix: field,
    fieldset: { legend: { text: legend, classes: 'govuk-fieldset__legend--s' } },
    hint: { text: hint ?? 'For example, 27 3 2024' },
    errorMessage: error,
    items: DATE_PARTS.map((part) => ({
      name: part,
      label: part.charAt(0).toUpperCase() + part.slice(1),
      classes: `${part === 'year' ? 'govuk-input--width-4' : 'govuk-input--width-2'}${error ? ' govuk-input--error' : ''}`,
      value: values[`${field}-${part}`] ?? '',
    })),
  };
}

type FormErrorMap = Record<string, { text: string }>;

/** The error summary, a date's link going to its first box. */
function errorsOf(problems: readonly Problem[], dateFields: (field: string) => boolean) {
  const { errorList, errors } = formErrors(problems);
  return {
    errors,
    errorList: errorList.map((e) => (dateFields(e.href.slice(1)) ? { ...e, href: `${e.href}-day` } : e)),
  };
}

// ——— Display ———

function figuresView(figures: readonly AnnualFigures[]) {
  const shown = (n: number | null) => (n === null ? 'Not published' : String(n));
  return figures.map((f) => ({
    ...f,
    received: String(f.applicationsReceived),
    notMet: shown(f.thresholdNotMet),
    carriedOut: shown(f.reviewsCarriedOut),
    withRecommendations: shown(f.reviewsWithRecommendations),
  }));
}

function caseView(review: CaseReviewView) {
  return {
    ...review,
    tenureLabel: TENURE_LABELS[review.tenure],
    contactPreferenceLabel: review.applicant?.contactPreference
      ? CONTACT_PREFERENCE_LABELS[review.applicant.contactPreference]
      : null,
    responseLabel: review.applicantResponse ? APPLICANT_RESPONSE_LABELS[review.applicantResponse] : null,
  };
}

// ——— Answering a form ———

interface FormPage {
  template: string;
  data: Record<string, unknown>;
}

/**
 * Runs a write and answers the form: the error summary (400), the conflict notice with what was
 * typed (409), or on to `to` with a flash.
 */
async function submit(
  reply: FastifyReply,
  render: (problems: readonly Problem[], conflict: boolean, version?: number) => Promise<FastifyReply>,
  write: () => Promise<unknown>,
  done: { flash: string; to: string },
) {
  try {
    await write();
  } catch (error) {
    if (error instanceof ValidationError) {
      reply.code(400);
      return render(error.problems, false);
    }
    if (error instanceof ConflictError) {
      reply.code(409);
      return render([], true, (error.current as { version: number }).version);
    }
    throw error;
  }
  reply.flash(done.flash);
  return reply.redirect(done.to, 303);
}

function idOf(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d{1,9}$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new NotFoundError(what);
  return n;
}

// ——— The application form ———

interface ComplaintRowValues {
  day: string;
  month: string;
  year: string;
  agency: string;
  summary: string;
}

/** The form's values of an application (for a change) or none (a new one). */
function applicationValues(review: CaseReviewView | undefined): Record<string, string> {
  if (!review) return { complaintRows: String(NEW_COMPLAINT_ROWS) };
  const values: Record<string, string> = {
    ...dateValues('receivedOn', review.receivedOn),
    applicantName: review.applicant?.name ?? '',
    applicantContact: review.applicant?.contact ?? '',
    contactPreference: review.applicant?.contactPreference ?? '',
    vulnerability: review.applicant?.vulnerability ?? '',
    tenure: review.tenure,
    caseOfficerUserId: review.caseOfficerUserId === null ? '' : String(review.caseOfficerUserId),
    version: String(review.version),
    complaintRows: String(review.complaints.length + 1),
  };
  review.complaints.forEach((c, i) => {
    Object.assign(values, dateValues(`complaint-${i}-date`, c.complainedOn));
    values[`complaint-${i}-agency`] = c.agency;
    values[`complaint-${i}-summary`] = c.summary ?? '';
  });
  return values;
}

function complaintRowCount(values: Record<string, string>): number {
  const n = Number(values.complaintRows);
  return Number.isInteger(n) && n >= 1 && n <= 60 ? n : NEW_COMPLAINT_ROWS;
}

/**
 * The service's input from the form, and which form row each complaint came from: rows marked
 * "remove" and rows left blank are not complaints.
 */
function applicationInput(values: Record<string, string>) {
  const complaints: { complainedOn: string; agency: string; summary: string }[] = [];
  const rows: number[] = [];
  for (let i = 0; i < complaintRowCount(values); i++) {
    if (values[`complaint-${i}-remove`]) continue;
    const row: ComplaintRowValues = {
      day: values[`complaint-${i}-date-day`] ?? '',
      month: values[`complaint-${i}-date-month`] ?? '',
      year: values[`complaint-${i}-date-year`] ?? '',
      agency: values[`complaint-${i}-agency`] ?? '',
      summary: values[`complaint-${i}-summary`] ?? '',
    };
    if (Object.values(row).every((v) => v.trim() === '')) continue;
    complaints.push({
      complainedOn: joinDate(values, `complaint-${i}-date`),
      agency: row.agency,
      summary: row.summary,
    });
    rows.push(i);
  }
  return {
    input: {
      receivedOn: joinDate(values, 'receivedOn'),
      applicantName: values.applicantName ?? '',
      applicantContact: values.applicantContact ?? '',
      contactPreference: values.contactPreference ?? '',
      vulnerability: values.vulnerability ?? '',
      tenure: values.tenure ?? '',
      caseOfficerUserId: values.caseOfficerUserId ?? '',
      complaints,
      ...(values.version === undefined ? {} : { version: values.version }),
    },
    rows,
  };
}

/** A service problem's field as the form names it: complaints.2.agency → complaint-<row>-agency. */
function formField(field: string, rows: readonly number[]): string {
  const m = /^complaints\.(\d+)\.(\w+)$/.exec(field);
  if (!m) return field;
  const row = rows[Number(m[1])] ?? 0;
  return `complaint-${row}-${m[2] === 'complainedOn' ? 'date' : m[2]}`;
}

async function renderApplicationForm(
  reply: FastifyReply,
  services: Services,
  page: Page,
  view: { title: string; action: string; back: string; reference?: string },
  values: Record<string, string>,
  problems: readonly Problem[] = [],
  conflict = false,
) {
  const isDate = (f: string) => f === 'receivedOn' || /^complaint-\d+-date$/.test(f);
  const { errors, errorList } = errorsOf(problems, isDate);
  const officers = await services.caseReviews.officers(page.actor, page.partnership.id);
  const complaints = Array.from({ length: complaintRowCount(values) }, (_, i) => ({
    index: i,
    number: i + 1,
    date: dateInput(`complaint-${i}-date`, 'Date of the complaint', values, errors),
    agency: values[`complaint-${i}-agency`] ?? '',
    summary: values[`complaint-${i}-summary`] ?? '',
    agencyError: errors[`complaint-${i}-agency`],
    summaryError: errors[`complaint-${i}-summary`],
  }));
  return reply.page('evidence/case-reviews/application-form.njk', {
    ...page.common,
    ...view,
    values,
    conflict,
    ...(problems.length ? { errorList } : {}),
    errors,
    received: dateInput('receivedOn', 'Date the application was received', values, errors),
    complaints,
    tenureItems: TENURES.map((tenure: Tenure) => ({
      value: tenure,
      text: TENURE_LABELS[tenure],
      checked: values.tenure === tenure,
    })),
    contactItems: [
      { value: '', text: 'Not known', checked: !values.contactPreference },
      ...CONTACT_PREFERENCES.map((c) => ({
        value: c,
        text: CONTACT_PREFERENCE_LABELS[c],
        checked: values.contactPreference === c,
      })),
    ],
    officerItems: [
      { value: '', text: 'Not yet named', selected: !values.caseOfficerUserId },
      ...officers.map((o) => ({
        value: String(o.userId),
        text: `${o.name} (${ROLE_LABELS[o.role as Role].toLowerCase()})`,
        selected: values.caseOfficerUserId === String(o.userId),
      })),
    ],
  });
}

// ——— The routes ———

export function registerCaseReviewRoutes(app: FastifyInstance, services: Services): void {
  const base = (page: Page) => `${page.evidence}/case-reviews`;
  const casePath = (page: Page, id: number) => `${base(page)}/${id}`;

  const loadCase = async (request: FastifyRequest<{ Params: CaseParams }>) => {
    const page = await evidencePage(services, request, request.params.slug);
    const id = idOf(request.params.id, 'The case review');
    const review = await services.caseReviews.get(page.actor, page.partnership.id, id);
    return { page, review };
  };

  // ——— The register ———
  app.get<{ Params: SlugParams }>('/p/:slug/evidence/case-reviews', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    const register = await services.caseReviews.register(page.actor, page.partnership.id);
    return reply.page('evidence/case-reviews/register.njk', {
      ...page.common,
      title: 'ASB case reviews (Community Trigger)',
      register,
      figures: figuresView(register.figures),
      rule: describeRule({
        complaints: register.settings.triggerComplaints,
        months: register.settings.triggerMonths,
      }),
      cases: register.cases.map((c) => ({
        ...c,
        href: casePath(page, c.id),
        tenureLabel: TENURE_LABELS[c.tenure],
        responseLabel: c.applicantResponse ? APPLICANT_RESPONSE_LABELS[c.applicantResponse] : null,
      })),
      newHref: `${base(page)}/new`,
      settingsHref: `${base(page)}/settings`,
      publicHref: `/partnerships/${page.partnership.slug}/case-reviews`,
      csvHref: `/partnerships/${page.partnership.slug}/case-reviews.csv`,
    });
  });

  // ——— A new application ———
  const newView = (page: Page) => ({
    title: 'Add a case review application',
    action: `${base(page)}/new`,
    back: base(page),
  });

  app.get<{ Params: SlugParams }>('/p/:slug/evidence/case-reviews/new', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    return renderApplicationForm(reply, services, page, newView(page), applicationValues(undefined));
  });

  app.post<{ Params: SlugParams }>('/p/:slug/evidence/case-reviews/new', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    const values = formBody(request.body);
    const view = newView(page);
    if (values.action === 'add-complaint') {
      // Refuse anyone who may not take applications before showing them the longer form.
      await services.caseReviews.officers(page.actor, page.partnership.id);
      values.complaintRows = String(complaintRowCount(values) + 1);
      return renderApplicationForm(reply, services, page, view, values);
    }
    const { input, rows } = applicationInput(values);
    let created: { id: number; reference: string; thresholdMet: boolean } | undefined;
    return submit(
      reply,
      (problems) =>
        renderApplicationForm(
          reply,
          services,
          page,
          view,
          values,
          problems.map((p) => ({ ...p, field: formField(p.field, rows) })),
        ),
      async () => {
        created = await services.caseReviews.create(page.actor, page.partnership.id, input);
      },
      {
        get flash() {
          return `Application ${created!.reference} has been added: the threshold was ${created!.thresholdMet ? 'met' : 'not met'}`;
        },
        get to() {
          return casePath(page, created!.id);
        },
      },
    );
  });

  // ——— A case ———
  app.get<{ Params: CaseParams }>('/p/:slug/evidence/case-reviews/:id', async (request, reply) => {
    const { page, review } = await loadCase(request);
    const path = casePath(page, review.id);
    return reply.page('evidence/case-reviews/case.njk', {
      ...page.common,
      title: `Case review ${review.reference}`,
      review: caseView(review),
      register: base(page),
      editHref: `${path}/edit`,
      reviewHref: `${path}/review`,
      outcomeHref: `${path}/outcome`,
      recommendationHref: `${path}/recommendations`,
    });
  });

  // ——— Change the application ———
  const editView = (page: Page, review: CaseReviewView) => ({
    title: `Change application ${review.reference}`,
    reference: review.reference,
    action: `${casePath(page, review.id)}/edit`,
    back: casePath(page, review.id),
  });

  const loadForEdit = async (request: FastifyRequest<{ Params: CaseParams }>) => {
    const { page, review } = await loadCase(request);
    // The coordinator's; and not once redacted (the service refuses the write too).
    await services.caseReviews.officers(page.actor, page.partnership.id);
    if (!review.canManage) {
      throw new ForbiddenError(
        'Its personal details have been redacted: the application can no longer be changed',
      );
    }
    return { page, review };
  };

  app.get<{ Params: CaseParams }>('/p/:slug/evidence/case-reviews/:id/edit', async (request, reply) => {
    const { page, review } = await loadForEdit(request);
    return renderApplicationForm(reply, services, page, editView(page, review), applicationValues(review));
  });

  app.post<{ Params: CaseParams }>('/p/:slug/evidence/case-reviews/:id/edit', async (request, reply) => {
    const { page, review } = await loadForEdit(request);
    const values = formBody(request.body);
    const view = editView(page, review);
    if (values.action === 'add-complaint') {
      values.complaintRows = String(complaintRowCount(values) + 1);
      return renderApplicationForm(reply, services, page, view, values);
    }
    const { input, rows } = applicationInput(values);
    let thresholdMet = review.thresholdMet;
    return submit(
      reply,
      (problems, conflict, version) =>
        renderApplicationForm(
          reply,
          services,
          page,
          view,
          version === undefined ? values : { ...values, version: String(version) },
          problems.map((p) => ({ ...p, field: formField(p.field, rows) })),
          conflict,
        ),
      async () => {
        ({ thresholdMet } = await services.caseReviews.updateApplication(
          page.actor,
          page.partnership.id,
          review.id,
          input,
        ));
      },
      {
        get flash() {
          return `Application ${review.reference} has been changed: the threshold is ${thresholdMet ? 'met' : 'not met'}`;
        },
        to: casePath(page, review.id),
      },
    );
  });

  // ——— The review, and the outcome: the coordinator or the case officer ———
  const loadForUpdate = async (request: FastifyRequest<{ Params: CaseParams }>) => {
    const loaded = await loadCase(request);
    if (!loaded.review.canUpdate) throw new NotFoundError('The case review');
    return loaded;
  };

  const simpleForm = (
    template: string,
    page: Page,
    review: CaseReviewView,
    title: string,
    values: Record<string, string>,
    dates: { field: string; legend: string; hint?: string }[],
    problems: readonly Problem[],
    conflict: boolean,
    extra: Record<string, unknown> = {},
  ): FormPage => {
    const { errors, errorList } = errorsOf(problems, (f) => dates.some((d) => d.field === f));
    return {
      template,
      data: {
        ...page.common,
        title,
        review: caseView(review),
        back: casePath(page, review.id),
        values,
        conflict,
        errors,
        ...(problems.length ? { errorList } : {}),
        dates: Object.fromEntries(
          dates.map((d) => [d.field, dateInput(d.field, d.legend, values, errors, d.hint)]),
        ),
        ...extra,
      },
    };
  };

  const renderReview = (
    reply: FastifyReply,
    page: Page,
    review: CaseReviewView,
    values: Record<string, string>,
    problems: readonly Problem[] = [],
    conflict = false,
  ) => {
    const form = simpleForm(
      'evidence/case-reviews/review-form.njk',
      page,
      review,
      `The review of ${review.reference}`,
      values,
      [
        {
          field: 'reviewOn',
          legend: 'Date the review was held',
          hint: 'For example, 27 3 2024. Leave blank if not held yet.',
        },
      ],
      problems,
      conflict,
    );
    return reply.page(form.template, form.data);
  };

  app.get<{ Params: CaseParams }>('/p/:slug/evidence/case-reviews/:id/review', async (request, reply) => {
    const { page, review } = await loadForUpdate(request);
    return renderReview(reply, page, review, {
      ...dateValues('reviewOn', review.reviewOn),
      panel: review.panel ?? '',
      version: String(review.version),
    });
  });

  app.post<{ Params: CaseParams }>('/p/:slug/evidence/case-reviews/:id/review', async (request, reply) => {
    const { page, review } = await loadForUpdate(request);
    const values = formBody(request.body);
    return submit(
      reply,
      (problems, conflict, version) =>
        renderReview(
          reply,
          page,
          review,
          version === undefined ? values : { ...values, version: String(version) },
          problems,
          conflict,
        ),
      () =>
        services.caseReviews.recordReview(page.actor, page.partnership.id, review.id, {
          reviewOn: joinDate(values, 'reviewOn'),
          panel: values.panel ?? '',
          version: values.version,
        }),
      { flash: `The review of ${review.reference} has been saved`, to: casePath(page, review.id) },
    );
  });

  const renderOutcome = (
    reply: FastifyReply,
    page: Page,
    review: CaseReviewView,
    values: Record<string, string>,
    problems: readonly Problem[] = [],
    conflict = false,
  ) => {
    const form = simpleForm(
      'evidence/case-reviews/outcome-form.njk',
      page,
      review,
      `The outcome of ${review.reference}`,
      values,
      [
        {
          field: 'closedOn',
          legend: 'Date the case was closed',
          hint: 'For example, 27 3 2024. Leave blank while it is open.',
        },
      ],
      problems,
      conflict,
      {
        responseItems: [
          { value: '', text: 'Not known yet', checked: !values.applicantResponse },
          ...APPLICANT_RESPONSES.map((r) => ({
            value: r,
            text: APPLICANT_RESPONSE_LABELS[r],
            checked: values.applicantResponse === r,
          })),
        ],
      },
    );
    return reply.page(form.template, form.data);
  };

  app.get<{ Params: CaseParams }>('/p/:slug/evidence/case-reviews/:id/outcome', async (request, reply) => {
    const { page, review } = await loadForUpdate(request);
    return renderOutcome(reply, page, review, {
      outcome: review.outcome ?? '',
      applicantResponse: review.applicantResponse ?? '',
      ...dateValues('closedOn', review.closedOn),
      version: String(review.version),
    });
  });

  app.post<{ Params: CaseParams }>('/p/:slug/evidence/case-reviews/:id/outcome', async (request, reply) => {
    const { page, review } = await loadForUpdate(request);
    const values = formBody(request.body);
    return submit(
      reply,
      (problems, conflict, version) =>
        renderOutcome(
          reply,
          page,
          review,
          version === undefined ? values : { ...values, version: String(version) },
          problems,
          conflict,
        ),
      () =>
        services.caseReviews.saveOutcome(page.actor, page.partnership.id, review.id, {
          outcome: values.outcome ?? '',
          applicantResponse: values.applicantResponse ?? '',
          closedOn: joinDate(values, 'closedOn'),
          version: values.version,
        }),
      { flash: `The outcome of ${review.reference} has been saved`, to: casePath(page, review.id) },
    );
  });

  // ——— Recommendations ———
  const recommendationDates = [
    { field: 'dueOn', legend: 'Due (optional)' },
    {
      field: 'doneOn',
      legend: 'Done (optional)',
      hint: 'For example, 27 3 2024. Leave blank until it is done.',
    },
  ];
  const recommendationInput = (values: Record<string, string>) => ({
    text: values.text ?? '',
    owner: values.owner ?? '',
    dueOn: joinDate(values, 'dueOn'),
    doneOn: joinDate(values, 'doneOn'),
    version: values.version,
  });

  const renderRecommendation = (
    reply: FastifyReply,
    page: Page,
    review: CaseReviewView,
    view: { title: string; action: string },
    values: Record<string, string>,
    problems: readonly Problem[] = [],
    conflict = false,
  ) => {
    const form = simpleForm(
      'evidence/case-reviews/recommendation-form.njk',
      page,
      review,
      view.title,
      values,
      recommendationDates,
      problems,
      conflict,
      { action: view.action },
    );
    return reply.page(form.template, form.data);
  };

  const newRecommendationView = (page: Page, review: CaseReviewView) => ({
    title: `Add a recommendation to ${review.reference}`,
    action: `${casePath(page, review.id)}/recommendations/new`,
  });

  app.get<{ Params: CaseParams }>(
    '/p/:slug/evidence/case-reviews/:id/recommendations/new',
    async (request, reply) => {
      const { page, review } = await loadForUpdate(request);
      return renderRecommendation(reply, page, review, newRecommendationView(page, review), {});
    },
  );

  app.post<{ Params: CaseParams }>(
    '/p/:slug/evidence/case-reviews/:id/recommendations/new',
    async (request, reply) => {
      const { page, review } = await loadForUpdate(request);
      const values = formBody(request.body);
      return submit(
        reply,
        (problems) =>
          renderRecommendation(reply, page, review, newRecommendationView(page, review), values, problems),
        () =>
          services.caseReviews.addRecommendation(
            page.actor,
            page.partnership.id,
            review.id,
            recommendationInput(values),
          ),
        { flash: `The recommendation has been added to ${review.reference}`, to: casePath(page, review.id) },
      );
    },
  );

  const loadRecommendation = async (request: FastifyRequest<{ Params: RecommendationParams }>) => {
    const page = await evidencePage(services, request, request.params.slug);
    const id = idOf(request.params.id, 'The case review');
    const rid = idOf(request.params.rid, 'The recommendation');
    const { review, recommendation } = await services.caseReviews.getRecommendation(
      page.actor,
      page.partnership.id,
      id,
      rid,
    );
    return { page, review, recommendation };
  };

  const editRecommendationView = (page: Page, review: CaseReviewView, rid: number) => ({
    title: `Change a recommendation of ${review.reference}`,
    action: `${casePath(page, review.id)}/recommendations/${rid}/edit`,
  });

  app.get<{ Params: RecommendationParams }>(
    '/p/:slug/evidence/case-reviews/:id/recommendations/:rid/edit',
    async (request, reply) => {
      const { page, review, recommendation: r } = await loadRecommendation(request);
      return renderRecommendation(reply, page, review, editRecommendationView(page, review, r.id), {
        text: r.text,
        owner: r.owner,
        ...dateValues('dueOn', r.dueOn),
        ...dateValues('doneOn', r.doneOn),
        version: String(r.version),
      });
    },
  );

  app.post<{ Params: RecommendationParams }>(
    '/p/:slug/evidence/case-reviews/:id/recommendations/:rid/edit',
    async (request, reply) => {
      const { page, review, recommendation: r } = await loadRecommendation(request);
      const values = formBody(request.body);
      const view = editRecommendationView(page, review, r.id);
      return submit(
        reply,
        (problems, conflict, version) =>
          renderRecommendation(
            reply,
            page,
            review,
            view,
            version === undefined ? values : { ...values, version: String(version) },
            problems,
            conflict,
          ),
        () =>
          services.caseReviews.updateRecommendation(
            page.actor,
            page.partnership.id,
            review.id,
            r.id,
            recommendationInput(values),
          ),
        {
          flash: `The recommendation of ${review.reference} has been changed`,
          to: casePath(page, review.id),
        },
      );
    },
  );

  const renderArchive = (
    reply: FastifyReply,
    page: Page,
    review: CaseReviewView,
    recommendation: CaseReviewView['recommendations'][number],
    conflict = false,
  ) =>
    reply.page('evidence/case-reviews/recommendation-archive.njk', {
      ...page.common,
      title: `Archive a recommendation of ${review.reference}`,
      review: caseView(review),
      recommendation,
      conflict,
      back: casePath(page, review.id),
    });

  app.get<{ Params: RecommendationParams }>(
    '/p/:slug/evidence/case-reviews/:id/recommendations/:rid/archive',
    async (request, reply) => {
      const { page, review, recommendation } = await loadRecommendation(request);
      return renderArchive(reply, page, review, recommendation);
    },
  );

  app.post<{ Params: RecommendationParams }>(
    '/p/:slug/evidence/case-reviews/:id/recommendations/:rid/archive',
    async (request, reply) => {
      const { page, review, recommendation } = await loadRecommendation(request);
      const values = formBody(request.body);
      return submit(
        reply,
        (_problems, _conflict, version) =>
          renderArchive(
            reply,
            page,
            review,
            { ...recommendation, version: version ?? recommendation.version },
            true,
          ),
        () =>
          services.caseReviews.archiveRecommendation(
            page.actor,
            page.partnership.id,
            review.id,
            recommendation.id,
            {
              version: values.version,
            },
          ),
        {
          flash: `The recommendation of ${review.reference} has been archived`,
          to: casePath(page, review.id),
        },
      );
    },
  );

  // ——— Settings: the coordinator ———
  const renderSettings = async (
    reply: FastifyReply,
    page: Page,
    values: Record<string, string>,
    problems: readonly Problem[] = [],
    conflict = false,
  ) => {
    const { errors, errorList } = errorsOf(problems, () => false);
    return reply.page('evidence/case-reviews/settings.njk', {
      ...page.common,
      title: 'Case review settings',
      values,
      errors,
      ...(problems.length ? { errorList } : {}),
      conflict,
      back: base(page),
    });
  };

  const loadSettings = async (request: FastifyRequest<{ Params: SlugParams }>) => {
    const page = await evidencePage(services, request, request.params.slug);
    // Settings are the coordinator's to change: only they get the form.
    await services.caseReviews.officers(page.actor, page.partnership.id);
    return { page, settings: await services.caseReviews.settings(page.actor, page.partnership.id) };
  };

  app.get<{ Params: SlugParams }>('/p/:slug/evidence/case-reviews/settings', async (request, reply) => {
    const { page, settings } = await loadSettings(request);
    return renderSettings(reply, page, {
      triggerComplaints: String(settings.triggerComplaints),
      triggerMonths: String(settings.triggerMonths),
      retentionYears: String(settings.retentionYears),
      version: String(settings.version),
    });
  });

  app.post<{ Params: SlugParams }>('/p/:slug/evidence/case-reviews/settings', async (request, reply) => {
    const { page } = await loadSettings(request);
    const values = formBody(request.body);
    return submit(
      reply,
      (problems, conflict, version) =>
        renderSettings(
          reply,
          page,
          version === undefined ? values : { ...values, version: String(version) },
          problems,
          conflict,
        ),
      () => services.caseReviews.saveSettings(page.actor, page.partnership.id, values),
      { flash: 'The case review settings have been saved', to: base(page) },
    );
  });

  // ——— Residents: the four figures, no sign-in ———
  app.get<{ Params: SlugParams }>('/partnerships/:slug/case-reviews', async (request, reply) => {
    let data: Awaited<ReturnType<Services['caseReviews']['publicFigures']>>;
    try {
      data = await services.caseReviews.publicFigures(request.params.slug);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      reply.code(404);
      return residentPage(reply, 'errors/not-found.njk', { title: 'Page not found', message: error.message });
    }
    const sources = [
      ...new Set(
        data.figures.filter((f) => f.source === 'published' && f.sourceUrl).map((f) => f.sourceUrl!),
      ),
    ];
    return residentPage(reply, 'evidence/case-reviews/public.njk', {
      title: 'ASB case reviews (the Community Trigger)',
      partnership: data.partnership,
      figures: figuresView(data.figures),
      sources,
      csvHref: `/partnerships/${data.partnership.slug}/case-reviews.csv`,
      back: `/partnerships/${data.partnership.slug}`,
    });
  });

  app.get<{ Params: SlugParams }>('/partnerships/:slug/case-reviews.csv', async (request, reply) => {
    const data = await services.caseReviews.publicFigures(request.params.slug);
    return reply
      .header('cache-control', PUBLIC_CACHE_CONTROL)
      .header(
        'content-disposition',
        `attachment; filename="${data.partnership.slug}-case-review-figures.csv"`,
      )
      .type('text/csv; charset=utf-8')
      .send(writeCaseReviewFiguresCsv(data.figures));
  });
}
