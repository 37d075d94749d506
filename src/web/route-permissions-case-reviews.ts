/** The permission table's part for evidence: ASB case reviews (the Community Trigger): the register and its annual figures. See route-permissions.ts. */
import {
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  get,
  MEMBERS,
  MISSING_FOR_MEMBERS,
  NOT_FOUND,
  post,
  PROGRESS_PAGE_OWN,
  PROGRESS_WRITE_OWN,
  PUBLIC,
  type RouteCase,
  type RoutePermission,
  type SampleContext,
} from './route-permission-kit.js';

const REGISTER = '/p/sosafe/evidence/case-reviews';
const CASE = '/p/:slug/evidence/case-reviews/:id';
const READ =
  'members, the board too: the annual figures; the cases only for the coordinator and each case’s officer';
const MANAGE = 'the coordinator: applications (the applicant, complaints, case officer) and the settings';
const UPDATE =
  'the coordinator, and the case officer (Helen Whitehead’s cases): the review, recommendations, outcome';

/**
 * Helen Whitehead's case is her own to update; a case with no officer is the coordinator's alone
 * (tried on the case page and the review form: the other forms ask the same question).
 */
const OWN = PROGRESS_PAGE_OWN;
const OWN_WRITE = PROGRESS_WRITE_OWN;

const caseUrl = async (c: SampleContext, officer: 'lead' | 'none', path = '') =>
  `${REGISTER}/${(await c.newCaseReview(officer)).id}${path}`;

/** The same page of a case with no officer: the coordinator's only. */
const otherCase = (path: string): RouteCase => ({
  what: 'a case with no case officer',
  sample: async (c) => ({ url: await caseUrl(c, 'none', path) }),
  expect: COORDINATOR_PAGE,
});

const applicationForm = {
  'receivedOn-day': '3',
  'receivedOn-month': '6',
  'receivedOn-year': '2024',
  applicantName: 'Permission Check Applicant',
  tenure: 'private_rented',
  complaintRows: '1',
  'complaint-0-date-day': '1',
  'complaint-0-date-month': '5',
  'complaint-0-date-year': '2024',
  'complaint-0-agency': 'Police',
  action: 'save',
};

export const CASE_REVIEW_ROUTES: readonly RoutePermission[] = [
  get('/p/:slug/evidence/case-reviews', READ, MEMBERS, () => ({ url: REGISTER })),
  get('/p/:slug/evidence/case-reviews/new', MANAGE, COORDINATOR_PAGE, () => ({ url: `${REGISTER}/new` })),
  post('/p/:slug/evidence/case-reviews/new', MANAGE, COORDINATOR_WRITE, () => ({
    url: `${REGISTER}/new`,
    form: applicationForm,
  })),
  get(CASE, UPDATE, OWN, async (c) => ({ url: await caseUrl(c, 'lead') }), [
    otherCase(''),
    {
      what: 'a case that does not exist',
      sample: () => ({ url: `${REGISTER}/999999` }),
      expect: MISSING_FOR_MEMBERS,
    },
  ]),
  get(`${CASE}/edit`, MANAGE, COORDINATOR_PAGE, async (c) => ({ url: await caseUrl(c, 'lead', '/edit') })),
  post(`${CASE}/edit`, MANAGE, COORDINATOR_WRITE, async (c) => {
    const review = await c.newCaseReview('lead');
    return {
      url: `${REGISTER}/${review.id}/edit`,
      form: { ...applicationForm, version: String(review.version) },
    };
  }),
  get(`${CASE}/review`, UPDATE, OWN, async (c) => ({ url: await caseUrl(c, 'lead', '/review') }), [
    otherCase('/review'),
  ]),
  post(`${CASE}/review`, UPDATE, OWN_WRITE, async (c) => {
    const review = await c.newCaseReview('lead');
    return {
      url: `${REGISTER}/${review.id}/review`,
      form: {
        'reviewOn-day': '21',
        'reviewOn-month': '6',
        'reviewOn-year': '2024',
        panel: 'SBC, Police',
        version: String(review.version),
      },
    };
  }),
  get(`${CASE}/outcome`, UPDATE, OWN, async (c) => ({ url: await caseUrl(c, 'lead', '/outcome') })),
  post(`${CASE}/outcome`, UPDATE, OWN_WRITE, async (c) => {
    const review = await c.newCaseReview('lead');
    return {
      url: `${REGISTER}/${review.id}/outcome`,
      form: {
        outcome: 'Permission check outcome',
        applicantResponse: 'satisfied',
        version: String(review.version),
      },
    };
  }),
  get(`${CASE}/recommendations/new`, UPDATE, OWN, async (c) => ({
    url: await caseUrl(c, 'lead', '/recommendations/new'),
  })),
  post(`${CASE}/recommendations/new`, UPDATE, OWN_WRITE, async (c) => ({
    url: await caseUrl(c, 'lead', '/recommendations/new'),
    form: { text: 'Permission check: another recommendation', owner: 'Police' },
  })),
  ...(['edit', 'archive'] as const).flatMap((action) => {
    const path = (review: { id: number; recommendationId: number }) =>
      `${REGISTER}/${review.id}/recommendations/${review.recommendationId}/${action}`;
    return [
      get(`${CASE}/recommendations/:rid/${action}`, UPDATE, OWN, async (c) => ({
        url: path(await c.newCaseReview('lead')),
      })),
      post(`${CASE}/recommendations/:rid/${action}`, UPDATE, OWN_WRITE, async (c) => {
        const review = await c.newCaseReview('lead');
        return {
          url: path(review),
          form: {
            text: 'Permission check recommendation, changed',
            owner: 'SBC',
            version: String(review.recommendationVersion),
          },
        };
      }),
    ];
  }),
  get('/p/:slug/evidence/case-reviews/settings', MANAGE, COORDINATOR_PAGE, () => ({
    url: `${REGISTER}/settings`,
  })),
  post('/p/:slug/evidence/case-reviews/settings', MANAGE, COORDINATOR_WRITE, async (c) => ({
    url: `${REGISTER}/settings`,
    form: {
      triggerComplaints: '3',
      triggerMonths: '6',
      retentionYears: '6',
      version: String(await c.caseReviewSettingsVersion()),
    },
  })),

  // ——— Residents: the four figures, no sign-in ———
  get(
    '/partnerships/:slug/case-reviews',
    'anyone: the four annual figures (nothing personal)',
    PUBLIC,
    () => ({ url: '/partnerships/north-herts/case-reviews' }),
    [
      {
        what: 'a partnership that does not exist',
        sample: () => ({ url: '/partnerships/no-such-partnership/case-reviews' }),
        expect: NOT_FOUND,
      },
    ],
  ),
  get(
    '/partnerships/:slug/case-reviews.csv',
    'anyone: the four annual figures as CSV',
    PUBLIC,
    () => ({ url: '/partnerships/sosafe/case-reviews.csv' }),
    [
      {
        what: 'a partnership that does not exist',
        sample: () => ({ url: '/partnerships/no-such-partnership/case-reviews.csv' }),
        expect: NOT_FOUND,
      },
    ],
  ),
];
