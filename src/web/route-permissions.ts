/**
 * Who may use which route: one declared table, with an entry for every route the app registers.
 * test/web/permissions.test.ts lists the routes as Fastify registers them, fails for a route with
 * no entry here (or an entry with no route), and makes each entry's sample request as each
 * audience, checking the declared outcome. The services enforce the rules; this table says what
 * the rules are meant to be, route by route, so a new route has to be thought about to be added.
 *
 * HEAD routes that Fastify adds for each GET answer as their GET and are not listed.
 */

import { BOARD_REPORT_ROUTES } from './route-permissions-board-report.js';
import { FUNDING_ROUTES } from './route-permissions-funding.js';
import { PLAN_SHEET_ROUTES } from './route-permissions-plan-sheet.js';
import { WORD_IMPORT_ROUTES } from './route-permissions-word-import.js';
import { DASHBOARD_ROUTES } from './route-permissions-dashboard.js';
import { PUBLIC_PAGE_ROUTES } from './route-permissions-public.js';
import { COUNTY_ROUTES } from './route-permissions-county.js';
import { EVIDENCE_ROUTES } from './route-permissions-evidence.js';
import { POLICE_TREND_ROUTES } from './route-permissions-police-trends.js';
import { POLICE_UPLOAD_ROUTES } from './route-permissions-police-upload.js';
import { LOCAL_INCIDENT_ROUTES } from './route-permissions-local-incidents.js';
import { CASE_REVIEW_ROUTES } from './route-permissions-case-reviews.js';
import {
  PUBLIC,
  SIGNED_IN,
  MEMBERS,
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  PROGRESS_PAGE_OWN,
  PROGRESS_WRITE_OWN,
  UPDATERS_PAGE,
  UPDATERS_WRITE,
  PROGRESS_PAGE_OTHER,
  PROGRESS_WRITE_OTHER,
  MISSING_FOR_MEMBERS,
  COMMENTERS_PAGE,
  COMMENTERS_WRITE,
  SIGNED_IN_WRITE,
  BEARER_TOKEN,
  NOT_FOUND,
  get,
  post,
  PLAN,
  outcomes,
  type RoutePermission,
} from './route-permission-kit.js';

export * from './route-permission-kit.js';

const CORE_ROUTES: readonly RoutePermission[] = [
  // ——— Public: assets, health, the footer's pages ———
  get('/assets/*', 'anyone: GOV.UK Frontend’s fonts and images', PUBLIC, () => ({
    url: '/assets/images/favicon.svg',
  })),
  get('/public/*', 'anyone: the stylesheets and scripts', PUBLIC, () => ({ url: '/public/app.css' })),
  get('/health', 'anyone: for a load balancer', PUBLIC, () => ({ url: '/health' })),
  get('/ping', 'anyone: for a load balancer', PUBLIC, () => ({ url: '/ping' })),
  get('/accessibility', 'anyone', PUBLIC, () => ({ url: '/accessibility' })),
  get('/privacy', 'anyone', PUBLIC, () => ({ url: '/privacy' })),
  get('/contact', 'anyone', PUBLIC, () => ({ url: '/contact' })),

  // ——— Signing in and out ———
  get('/', 'signed in: your partnerships (or straight to your only one)', SIGNED_IN, () => ({ url: '/' })),
  get('/sign-in', 'anyone; someone signed in is sent on', PUBLIC, () => ({ url: '/sign-in' })),
  {
    method: 'POST',
    url: '/sign-in',
    rule: 'anyone (rate-limited per address, throttled per account)',
    cases: [
      {
        sample: (c) => ({
          url: '/sign-in',
          form: { email: 'coordinator@sosafe.example', password: c.demoPassword },
        }),
        expect: PUBLIC,
        ownSession: true,
      },
    ],
  },
  {
    method: 'POST',
    url: '/sign-out',
    rule: 'anyone: the session ends and everyone lands on the sign-in page',
    cases: [
      {
        sample: () => ({ url: '/sign-out', form: {} }),
        expect: outcomes('signed-out', 'signed-out', 'signed-out', 'signed-out', 'signed-out', 'signed-out'),
        ownSession: true,
      },
    ],
  },

  // ——— Reading the live plan: the partnership's members ———
  get('/p/:slug', 'members: to the latest plan', MEMBERS, () => ({ url: '/p/sosafe' }), [
    {
      what: 'a partnership that does not exist',
      sample: () => ({ url: '/p/nowhere' }),
      expect: NOT_FOUND,
    },
  ]),
  get(PLAN, 'members', MEMBERS, (c) => ({ url: c.plan }), [
    {
      what: 'a year with no plan',
      sample: () => ({ url: '/p/sosafe/plans/1999-00' }),
      expect: MISSING_FOR_MEMBERS,
    },
  ]),
  get(`${PLAN}/aims/:number`, 'members', MEMBERS, (c) => ({ url: `${c.plan}/aims/3.1` }), [
    {
      what: 'an aim that does not exist',
      sample: (c) => ({ url: `${c.plan}/aims/9.9` }),
      expect: MISSING_FOR_MEMBERS,
    },
  ]),
  get(`${PLAN}/document`, 'members', MEMBERS, (c) => ({ url: `${c.plan}/document?quarter=3` })),
  get(`${PLAN}/search`, 'members', MEMBERS, (c) => ({ url: `${c.plan}/search?q=hate+crime` })),
  get(`${PLAN}/organisations`, 'members', MEMBERS, (c) => ({ url: `${c.plan}/organisations` })),
  get(`${PLAN}/organisations/:id`, 'members', MEMBERS, async (c) => ({
    url: `${c.plan}/organisations/${await c.organisationId('CCSU')}`,
  })),
  get(`${PLAN}/about`, 'members', MEMBERS, (c) => ({ url: `${c.plan}/about` })),

  // ——— Progress: the action's lead officers and the coordinator ———
  get(
    `${PLAN}/actions/:id/progress`,
    'the coordinator, and lead officers of the action (by name or organisation)',
    PROGRESS_PAGE_OWN,
    async (c) => ({ url: `${c.plan}/actions/${await c.actionId('3.1', 1)}/progress?quarter=3` }),
    [
      {
        what: 'an action the lead officer does not lead',
        sample: async (c) => ({ url: `${c.plan}/actions/${await c.actionId('3.1', 3)}/progress` }),
        expect: PROGRESS_PAGE_OTHER,
      },
    ],
  ),
  post(
    `${PLAN}/actions/:id/progress`,
    'the coordinator, and lead officers of the action (by name or organisation)',
    PROGRESS_WRITE_OWN,
    async (c) => ({
      url: `${c.plan}/actions/${(await c.newAction('CCSU: Helen Whitehead')).id}/progress`,
      form: { quarter: '1', status: 'on_track', text: 'Permission check: progress' },
    }),
    [
      {
        what: 'an action the lead officer does not lead',
        sample: async (c) => ({
          url: `${c.plan}/actions/${(await c.newAction('Police: NPT Inspector')).id}/progress`,
          form: { quarter: '1', status: 'on_track', text: 'Permission check: progress' },
        }),
        expect: PROGRESS_WRITE_OTHER,
      },
    ],
  ),

  get(
    `${PLAN}/quarters/:q/updates`,
    'lead officers and the coordinator: the actions they lead',
    UPDATERS_PAGE,
    (c) => ({ url: `${c.plan}/quarters/4/updates` }),
    [
      {
        what: 'a quarter that does not exist',
        sample: (c) => ({ url: `${c.plan}/quarters/5/updates` }),
        expect: MISSING_FOR_MEMBERS,
      },
    ],
  ),
  post(
    `${PLAN}/quarters/:q/updates`,
    'lead officers and the coordinator: the actions they lead (nothing typed: nothing saved)',
    UPDATERS_WRITE,
    (c) => ({ url: `${c.plan}/quarters/4/updates`, form: { intent: 'draft' } }),
  ),

  // ——— The plan's structure: the coordinator ———
  get(`${PLAN}/sections/new`, 'the coordinator', COORDINATOR_PAGE, (c) => ({
    url: `${c.plan}/sections/new`,
  })),
  post(`${PLAN}/sections/new`, 'the coordinator', COORDINATOR_WRITE, (c) => ({
    url: `${c.plan}/sections/new`,
    form: { number: String(c.freeSectionNumber()), title: 'Permission check: new section' },
  })),
  get(`${PLAN}/sections/:id/edit`, 'the coordinator', COORDINATOR_PAGE, async (c) => ({
    url: `${c.plan}/sections/${await c.sectionId(1)}/edit`,
  })),
  post(`${PLAN}/sections/:id/edit`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const section = await c.newSection();
    return {
      url: `${c.plan}/sections/${section.id}/edit`,
      form: {
        number: String(section.number),
        title: 'Permission check: changed section',
        version: String(section.version),
      },
    };
  }),
  get(`${PLAN}/sections/:id/aims/new`, 'the coordinator', COORDINATOR_PAGE, async (c) => ({
    url: `${c.plan}/sections/${await c.sectionId(1)}/aims/new`,
  })),
  post(`${PLAN}/sections/:id/aims/new`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const section = await c.newSection();
    return {
      url: `${c.plan}/sections/${section.id}/aims/new`,
      form: { number: `${section.number}.1`, title: 'Permission check: new aim' },
    };
  }),
  get(`${PLAN}/aims/:number/edit`, 'the coordinator', COORDINATOR_PAGE, (c) => ({
    url: `${c.plan}/aims/3.1/edit`,
  })),
  post(`${PLAN}/aims/:number/edit`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const aim = await c.newAim();
    return {
      url: `${c.plan}/aims/${aim.number}/edit`,
      form: { number: aim.number, title: 'Permission check: changed aim', version: String(aim.version) },
    };
  }),
  get(`${PLAN}/aims/:number/actions/new`, 'the coordinator', COORDINATOR_PAGE, (c) => ({
    url: `${c.plan}/aims/3.1/actions/new`,
  })),
  post(`${PLAN}/aims/:number/actions/new`, 'the coordinator', COORDINATOR_WRITE, async (c) => ({
    url: `${c.plan}/aims/${(await c.newAim()).number}/actions/new`,
    form: { description: 'Permission check: new action', leads: 'SBC' },
  })),
  get(
    `${PLAN}/actions/:id/edit`,
    'the coordinator, and lead officers of the action (its details, not its leads)',
    PROGRESS_PAGE_OWN,
    async (c) => ({ url: `${c.plan}/actions/${await c.actionId('3.1', 1)}/edit` }),
    [
      {
        what: 'an action the lead officer does not lead',
        sample: async (c) => ({ url: `${c.plan}/actions/${await c.actionId('3.1', 3)}/edit` }),
        expect: PROGRESS_PAGE_OTHER,
      },
    ],
  ),
  post(
    `${PLAN}/actions/:id/edit`,
    'the coordinator, and lead officers of the action (its details, not its leads)',
    PROGRESS_WRITE_OWN,
    async (c) => {
      const action = await c.newAction('CCSU: Helen Whitehead');
      return {
        url: `${c.plan}/actions/${action.id}/edit`,
        form: { description: 'Permission check: changed action', version: String(action.version) },
      };
    },
    [
      {
        what: 'an action the lead officer does not lead',
        sample: async (c) => {
          const action = await c.newAction('Police: NPT Inspector');
          return {
            url: `${c.plan}/actions/${action.id}/edit`,
            form: { description: 'Permission check: changed action', version: String(action.version) },
          };
        },
        expect: PROGRESS_WRITE_OTHER,
      },
    ],
  ),
  get(`${PLAN}/sections/:id/archive`, 'the coordinator', COORDINATOR_PAGE, async (c) => ({
    url: `${c.plan}/sections/${await c.sectionId(1)}/archive`,
  })),
  post(`${PLAN}/sections/:id/archive`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const section = await c.newSection();
    return { url: `${c.plan}/sections/${section.id}/archive`, form: { version: String(section.version) } };
  }),
  post(`${PLAN}/sections/:id/move`, 'the coordinator', COORDINATOR_WRITE, async (c) => ({
    url: `${c.plan}/sections/${(await c.newSection()).id}/move`,
    form: { direction: 'up' },
  })),
  get(`${PLAN}/aims/:id/archive`, 'the coordinator', COORDINATOR_PAGE, (c) => ({
    url: `${c.plan}/aims/3.1/archive`,
  })),
  post(`${PLAN}/aims/:id/archive`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const aim = await c.newAim();
    return { url: `${c.plan}/aims/${aim.number}/archive`, form: { version: String(aim.version) } };
  }),
  post(`${PLAN}/aims/:id/move`, 'the coordinator', COORDINATOR_WRITE, async (c) => ({
    url: `${c.plan}/aims/${(await c.newAim()).number}/move`,
    form: { direction: 'up' },
  })),
  get(`${PLAN}/actions/:id/archive`, 'the coordinator', COORDINATOR_PAGE, async (c) => ({
    url: `${c.plan}/actions/${await c.actionId('3.1', 1)}/archive`,
  })),
  post(`${PLAN}/actions/:id/archive`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const action = await c.newAction();
    return { url: `${c.plan}/actions/${action.id}/archive`, form: { version: String(action.version) } };
  }),
  post(`${PLAN}/actions/:id/move`, 'the coordinator', COORDINATOR_WRITE, async (c) => ({
    url: `${c.plan}/actions/${(await c.newAction()).id}/move`,
    form: { direction: 'up' },
  })),

  // ——— Priorities: the coordinator ———
  get(`${PLAN}/priorities/new`, 'the coordinator', COORDINATOR_PAGE, (c) => ({
    url: `${c.plan}/priorities/new`,
  })),
  post(`${PLAN}/priorities/new`, 'the coordinator', COORDINATOR_WRITE, (c) => ({
    url: `${c.plan}/priorities/new`,
    form: { title: 'Permission check: new priority' },
  })),
  get(
    `${PLAN}/priorities/:id/edit`,
    'the coordinator',
    COORDINATOR_PAGE,
    async (c) => ({ url: `${c.plan}/priorities/${await c.priorityId('Fraud')}/edit` }),
    [
      {
        what: 'a priority that does not exist',
        sample: (c) => ({ url: `${c.plan}/priorities/999999/edit` }),
        expect: outcomes('sign-in', 'not-found', 'forbidden', 'forbidden', 'forbidden', 'forbidden'),
      },
    ],
  ),
  post(`${PLAN}/priorities/:id/edit`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const priority = await c.newPriority();
    return {
      url: `${c.plan}/priorities/${priority.id}/edit`,
      form: { title: 'Permission check: changed priority', version: String(priority.version) },
    };
  }),
  get(`${PLAN}/priorities/:id/archive`, 'the coordinator', COORDINATOR_PAGE, async (c) => ({
    url: `${c.plan}/priorities/${await c.priorityId('Fraud')}/archive`,
  })),
  post(`${PLAN}/priorities/:id/archive`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const priority = await c.newPriority();
    return {
      url: `${c.plan}/priorities/${priority.id}/archive`,
      form: { version: String(priority.version) },
    };
  }),

  // ——— Roll-over: the coordinator starts next year's plan ———
  get(`${PLAN}/roll-over`, 'the coordinator', COORDINATOR_PAGE, (c) => ({ url: `${c.plan}/roll-over` })),
  post(
    `${PLAN}/roll-over`,
    'the coordinator (once: the next year’s plan, once made, is not made again)',
    COORDINATOR_WRITE,
    async (c) => ({ url: `${c.plan}/roll-over`, form: { aims: String((await c.newAim()).id) } }),
  ),

  // ——— The changes of the year: members ———
  get(`${PLAN}/changes`, 'members, the board too', MEMBERS, (c) => ({ url: `${c.plan}/changes` })),
  get(`${PLAN}/changes.csv`, 'members, the board too', MEMBERS, (c) => ({ url: `${c.plan}/changes.csv` })),

  // ——— The quarterly cycle: the coordinator runs it, members see it ———
  // Each sample puts its quarter in the phase it needs: Q4 is opened by the open sample (or made
  // open), Q2 is closed by the close sample, Q1 is closed for the snapshots. Q3 is never opened,
  // and its demo updates are "submitted" (the state of updates recorded outside a cycle), so reviewable.
  get(`${PLAN}/quarters`, 'members, the board too', MEMBERS, (c) => ({ url: `${c.plan}/quarters` })),
  get(
    `${PLAN}/quarters/:q`,
    'members (the board read-only); the coordinator also opens, chases and closes it',
    MEMBERS,
    (c) => ({ url: `${c.plan}/quarters/4` }),
    [
      {
        what: 'a quarter that does not exist',
        sample: (c) => ({ url: `${c.plan}/quarters/5` }),
        expect: MISSING_FOR_MEMBERS,
      },
    ],
  ),
  post(`${PLAN}/quarters/:q/open`, 'the coordinator', COORDINATOR_WRITE, (c) => ({
    url: `${c.plan}/quarters/4/open`,
    form: { 'dueOn-day': '14', 'dueOn-month': '4', 'dueOn-year': '2025', reminderOffsets: '-7, 1, 7' },
  })),
  post(`${PLAN}/quarters/:q/requests`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    await c.quarter(4, 'open');
    return { url: `${c.plan}/quarters/4/requests`, form: {} };
  }),
  get(
    `${PLAN}/quarters/:q/actions/:id/review`,
    'the coordinator, and the partners and lead officers the coordinator makes reviewers (none in the demo), not for actions they lead',
    COORDINATOR_PAGE,
    async (c) => ({
      url: `${c.plan}/quarters/3/actions/${await c.actionId('3.1', 1)}/review`,
    }),
  ),
  post(
    `${PLAN}/quarters/:q/actions/:id/review`,
    'the coordinator, and the partners and lead officers the coordinator makes reviewers (none in the demo), not for actions they lead',
    COORDINATOR_WRITE,
    async (c) => ({
      url: `${c.plan}/quarters/3/actions/${await c.actionId('3.1', 1)}/review`,
      form: { decision: 'accept', comment: '', version: '1' },
    }),
  ),
  get(`${PLAN}/quarters/:q/close`, 'the coordinator', COORDINATOR_PAGE, async (c) => {
    await c.quarter(4, 'open');
    return { url: `${c.plan}/quarters/4/close` };
  }),
  post(`${PLAN}/quarters/:q/close`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    await c.quarter(2, 'open');
    return {
      url: `${c.plan}/quarters/2/close`,
      form: { 'reportedOn-day': '17', 'reportedOn-month': '10', 'reportedOn-year': '2024', version: '1' },
    };
  }),
  ...(['snapshot', 'snapshot.csv', 'snapshot.json'] as const).map((file) =>
    get(
      `${PLAN}/quarters/:q/${file}`,
      'members, the board too: the quarter as reported to the board',
      MEMBERS,
      async (c) => {
        await c.quarter(1, 'closed');
        return { url: `${c.plan}/quarters/1/${file}` };
      },
      [
        {
          what: 'a quarter not reported to the board',
          sample: (c) => ({ url: `${c.plan}/quarters/3/${file}` }),
          expect: MISSING_FOR_MEMBERS,
        },
      ],
    ),
  ),

  // ——— An aim's history and comments ———
  get(`${PLAN}/aims/:number/history`, 'members, the board too', MEMBERS, (c) => ({
    url: `${c.plan}/aims/3.1/history`,
  })),
  get(
    `${PLAN}/aims/:number/comments`,
    'the coordinator, lead officers and partners',
    COMMENTERS_PAGE,
    (c) => ({
      url: `${c.plan}/aims/3.1/comments`,
    }),
  ),
  post(
    `${PLAN}/aims/:number/comments`,
    'the coordinator, lead officers and partners',
    COMMENTERS_WRITE,
    (c) => ({
      url: `${c.plan}/aims/3.1/comments`,
      form: { text: 'Permission check: a comment' },
    }),
  ),
  get(
    `${PLAN}/aims/:number/comments/:id/archive`,
    'the comment’s author, and the coordinator',
    outcomes('sign-in', 'ok', 'forbidden', 'ok', 'forbidden', 'forbidden'),
    async (c) => ({
      url: `${c.plan}/aims/3.1/comments/${(await c.newComment('3.1', 'partner')).id}/archive`,
    }),
    [
      {
        what: 'a lead officer’s comment',
        sample: async (c) => ({
          url: `${c.plan}/aims/3.1/comments/${(await c.newComment('3.1', 'lead')).id}/archive`,
        }),
        expect: outcomes('sign-in', 'ok', 'ok', 'forbidden', 'forbidden', 'forbidden'),
      },
    ],
  ),
  post(
    `${PLAN}/aims/:number/comments/:id/archive`,
    'the comment’s author, and the coordinator',
    outcomes('forbidden', 'ok', 'forbidden', 'ok', 'forbidden', 'forbidden'),
    async (c) => {
      const comment = await c.newComment('3.1', 'partner');
      return {
        url: `${c.plan}/aims/3.1/comments/${comment.id}/archive`,
        form: { version: String(comment.version) },
      };
    },
    [
      {
        what: 'a lead officer’s comment',
        sample: async (c) => {
          const comment = await c.newComment('3.1', 'lead');
          return {
            url: `${c.plan}/aims/3.1/comments/${comment.id}/archive`,
            form: { version: String(comment.version) },
          };
        },
        expect: outcomes('forbidden', 'ok', 'ok', 'forbidden', 'forbidden', 'forbidden'),
      },
    ],
  ),

  // ——— The audit trail: the coordinator ———
  get('/p/:slug/audit', 'the coordinator', COORDINATOR_PAGE, () => ({
    url: '/p/sosafe/audit?kind=aim.updated',
  })),
  get('/p/:slug/audit.csv', 'the coordinator', COORDINATOR_PAGE, () => ({ url: '/p/sosafe/audit.csv' })),

  // ——— People, invitations and the outbox: the coordinator ———
  get('/p/:slug/people', 'the coordinator', COORDINATOR_PAGE, () => ({ url: '/p/sosafe/people' })),
  get('/p/:slug/people/invite', 'the coordinator', COORDINATOR_PAGE, () => ({
    url: '/p/sosafe/people/invite',
  })),
  post('/p/:slug/people/invite', 'the coordinator', COORDINATOR_WRITE, (c) => ({
    url: '/p/sosafe/people/invite',
    form: { email: c.newEmail(), name: 'Permission Check Invitee', role: 'partner' },
  })),
  post('/p/:slug/invitations/:id/revoke', 'the coordinator', COORDINATOR_WRITE, async (c) => ({
    url: `/p/sosafe/invitations/${(await c.newInvitation()).id}/revoke`,
    form: {},
  })),
  get('/p/:slug/people/:id/role', 'the coordinator', COORDINATOR_PAGE, async (c) => ({
    url: `/p/sosafe/people/${await c.membershipId('partner')}/role`,
  })),
  post('/p/:slug/people/:id/role', 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const member = await c.newMember();
    return {
      url: `/p/sosafe/people/${member.id}/role`,
      form: { role: 'board_member', organisation: '', person: '', version: String(member.version) },
    };
  }),
  get('/p/:slug/people/:id/deactivate', 'the coordinator', COORDINATOR_PAGE, async (c) => ({
    url: `/p/sosafe/people/${await c.membershipId('partner')}/deactivate`,
  })),
  post('/p/:slug/people/:id/deactivate', 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const member = await c.newMember();
    return { url: `/p/sosafe/people/${member.id}/deactivate`, form: { version: String(member.version) } };
  }),
  get('/p/:slug/people/:id/reactivate', 'the coordinator', COORDINATOR_PAGE, async (c) => ({
    url: `/p/sosafe/people/${(await c.newMember({ deactivated: true })).id}/reactivate`,
  })),
  post('/p/:slug/people/:id/reactivate', 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const member = await c.newMember({ deactivated: true });
    return { url: `/p/sosafe/people/${member.id}/reactivate`, form: { version: String(member.version) } };
  }),
  get('/p/:slug/outbox', 'the coordinator', COORDINATOR_PAGE, () => ({ url: '/p/sosafe/outbox' })),

  // ——— API tokens: the coordinator ———
  get('/p/:slug/api-tokens', 'the coordinator', COORDINATOR_PAGE, () => ({ url: '/p/sosafe/api-tokens' })),
  get('/p/:slug/api-tokens/new', 'the coordinator', COORDINATOR_PAGE, () => ({
    url: '/p/sosafe/api-tokens/new',
  })),
  post('/p/:slug/api-tokens/new', 'the coordinator', COORDINATOR_WRITE, () => ({
    url: '/p/sosafe/api-tokens/new',
    form: { name: 'Permission check token', expiresInDays: '' },
  })),
  get(
    '/p/:slug/api-tokens/:id/revoke',
    'the coordinator',
    COORDINATOR_PAGE,
    async (c) => ({ url: `/p/sosafe/api-tokens/${(await c.newApiToken()).id}/revoke` }),
    [
      {
        what: 'a token that does not exist',
        sample: () => ({ url: '/p/sosafe/api-tokens/999999/revoke' }),
        expect: outcomes('sign-in', 'not-found', 'forbidden', 'forbidden', 'forbidden', 'forbidden'),
      },
    ],
  ),
  post('/p/:slug/api-tokens/:id/revoke', 'the coordinator', COORDINATOR_WRITE, async (c) => ({
    url: `/p/sosafe/api-tokens/${(await c.newApiToken()).id}/revoke`,
    form: {},
  })),

  // ——— The read-only API: a bearer token of the partnership, never a session ———
  get('/api/v1/openapi.json', 'anyone: the API’s description holds no data', PUBLIC, () => ({
    url: '/api/v1/openapi.json',
  })),
  get('/api/v1/partnerships/:slug', 'a token of the partnership', BEARER_TOKEN, () => ({
    url: '/api/v1/partnerships/sosafe',
  })),
  get('/api/v1/partnerships/:slug/plans/:year', 'a token of the partnership', BEARER_TOKEN, (c) => ({
    url: `/api/v1/partnerships/sosafe/plans/${c.plan.split('/').at(-1)!}`,
  })),
  get('/api/v1/partnerships/:slug/plans/:year/quarters', 'a token of the partnership', BEARER_TOKEN, (c) => ({
    url: `/api/v1/partnerships/sosafe/plans/${c.plan.split('/').at(-1)!}/quarters`,
  })),
  get(
    '/api/v1/partnerships/:slug/plans/:year/quarters/:q/snapshot',
    'a token of the partnership',
    BEARER_TOKEN,
    (c) => ({ url: `/api/v1/partnerships/sosafe/plans/${c.plan.split('/').at(-1)!}/quarters/1/snapshot` }),
  ),

  // ——— Links sent by email: whoever holds the link ———
  get(
    '/invitations/:token',
    'whoever holds the link (it names the invited address)',
    PUBLIC,
    async (c) => ({ url: `/invitations/${(await c.newInvitation()).token}` }),
    [
      {
        what: 'a link that does not work',
        sample: () => ({ url: '/invitations/not-a-real-invitation-token-at-all' }),
        expect: NOT_FOUND,
      },
    ],
  ),
  {
    method: 'POST',
    url: '/invitations/:token',
    rule: 'whoever holds the link, signed out (a new account) or as the invited account; not as someone else',
    cases: [
      {
        sample: async (c) => ({
          url: `/invitations/${(await c.newInvitation()).token}`,
          form: { name: 'Permission Check Joiner', password: 'a long enough new password' },
        }),
        expect: outcomes('ok', 'forbidden', 'forbidden', 'forbidden', 'forbidden', 'forbidden'),
        ownSession: true,
      },
      {
        what: 'a link that does not work',
        sample: () => ({
          url: '/invitations/not-a-real-invitation-token-at-all',
          form: { name: 'Nobody', password: 'a long enough new password' },
        }),
        expect: NOT_FOUND,
      },
    ],
  },
  get('/forgot-password', 'anyone', PUBLIC, () => ({ url: '/forgot-password' })),
  post('/forgot-password', 'anyone (rate-limited); the same answer for any address', PUBLIC, (c) => ({
    url: '/forgot-password',
    form: { email: c.newEmail() },
  })),
  get(
    '/reset-password/:token',
    'whoever holds the link',
    PUBLIC,
    async (c) => ({ url: `/reset-password/${(await c.newPasswordReset()).token}` }),
    [
      {
        what: 'a link that does not work',
        sample: () => ({ url: '/reset-password/not-a-real-reset-token-at-all' }),
        expect: NOT_FOUND,
      },
    ],
  ),
  {
    method: 'POST',
    url: '/reset-password/:token',
    rule:
      'whoever holds the link: the password is set, every session of that account ends, and all ' +
      'land on the sign-in page (someone signed in as another account stays signed in)',
    cases: [
      {
        sample: async (c) => ({
          url: `/reset-password/${(await c.newPasswordReset()).token}`,
          form: { password: 'a brand new password from the link' },
        }),
        expect: outcomes('signed-out', 'sign-in', 'sign-in', 'sign-in', 'sign-in', 'sign-in'),
        ownSession: true,
      },
      {
        what: 'a link that does not work',
        sample: () => ({
          url: '/reset-password/not-a-real-reset-token-at-all',
          form: { password: 'a brand new password from the link' },
        }),
        expect: NOT_FOUND,
      },
    ],
  },

  // ——— Your account: anyone signed in ———
  get('/account', 'anyone signed in', SIGNED_IN, () => ({ url: '/account' })),
  get('/account/password', 'anyone signed in', SIGNED_IN, () => ({ url: '/account/password' })),
  {
    method: 'POST',
    url: '/account/password',
    rule: 'anyone signed in, for their own account; their other sessions end',
    cases: [
      {
        sample: (c) => ({
          url: '/account/password',
          form: { current: c.demoPassword, password: 'a changed password for the check' },
        }),
        expect: SIGNED_IN_WRITE,
        ownAccount: true,
      },
    ],
  },
  {
    method: 'POST',
    url: '/account/sign-out-everywhere',
    rule: 'anyone signed in: every session of their account ends, this one too',
    cases: [
      {
        sample: () => ({ url: '/account/sign-out-everywhere', form: {} }),
        expect: outcomes('forbidden', 'signed-out', 'signed-out', 'signed-out', 'signed-out', 'signed-out'),
        ownAccount: true,
      },
    ],
  },

  // ——— Single sign-on (OpenID Connect) ———
  get(
    '/sign-in/sso',
    'anyone, when single sign-on is configured; without it (as in the tests) there is nothing here',
    NOT_FOUND,
    () => ({ url: '/sign-in/sso' }),
  ),
  get(
    '/sign-in/sso/callback',
    'the provider’s answer, in the browser that started the sign-in; nothing without single sign-on',
    NOT_FOUND,
    () => ({ url: '/sign-in/sso/callback?code=x&state=y' }),
  ),
];

/** The whole table: the core, then each area's part, kept in a file of its own. */
export const ROUTE_PERMISSIONS: readonly RoutePermission[] = [
  ...CORE_ROUTES,
  ...BOARD_REPORT_ROUTES,
  ...FUNDING_ROUTES,
  ...PLAN_SHEET_ROUTES,
  ...WORD_IMPORT_ROUTES,
  ...DASHBOARD_ROUTES,
  ...PUBLIC_PAGE_ROUTES,
  ...COUNTY_ROUTES,
  ...EVIDENCE_ROUTES,
  ...POLICE_TREND_ROUTES,
  ...POLICE_UPLOAD_ROUTES,
  ...LOCAL_INCIDENT_ROUTES,
  ...CASE_REVIEW_ROUTES,
];

export function routeKey(method: string, url: string): string {
  return `${method.toUpperCase()} ${url}`;
}

export function findRoutePermission(method: string, url: string): RoutePermission | undefined {
  const key = routeKey(method, url);
  return ROUTE_PERMISSIONS.find((r) => routeKey(r.method, r.url) === key);
}
