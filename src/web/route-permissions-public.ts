/** The permission table's part for the public page and publishing aims. See route-permissions.ts. */
import {
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  get,
  NOT_FOUND,
  outcomes,
  PLAN,
  post,
  PUBLIC,
  type RoutePermission,
} from './route-permission-kit.js';

/** Asked of the coordinator's page for something not there: the coordinator learns it is missing. */
const MISSING_FOR_COORDINATOR = outcomes(
  'sign-in',
  'not-found',
  'forbidden',
  'forbidden',
  'forbidden',
  'forbidden',
);

export const PUBLIC_PAGE_ROUTES: readonly RoutePermission[] = [
  // ——— Residents: anyone, signed in or not; what is not published is not there ———
  get(
    '/partnerships/:slug',
    'anyone: the partnership’s public page',
    PUBLIC,
    () => ({ url: '/partnerships/sosafe' }),
    [
      {
        what: 'a partnership that does not exist',
        sample: () => ({ url: '/partnerships/no-such-partnership' }),
        expect: NOT_FOUND,
      },
    ],
  ),
  get(
    '/partnerships/:slug/:year',
    'anyone: the published aims of a plan year',
    PUBLIC,
    async (c) => {
      await c.newPublishedAim();
      return { url: `/partnerships/sosafe/${c.plan.split('/').at(-1)!}` };
    },
    [
      {
        what: 'a plan year with nothing published',
        sample: () => ({ url: '/partnerships/sosafe/2019-20' }),
        expect: NOT_FOUND,
      },
    ],
  ),
  get(
    '/partnerships/:slug/:year/aims/:number',
    'anyone, for a published aim; nobody sees an unpublished one',
    PUBLIC,
    async (c) => ({
      url: `/partnerships/sosafe/${c.plan.split('/').at(-1)!}/aims/${(await c.newPublishedAim()).number}`,
    }),
    [
      {
        what: 'an aim not published',
        sample: async (c) => ({
          url: `/partnerships/sosafe/${c.plan.split('/').at(-1)!}/aims/${(await c.newAim()).number}`,
        }),
        expect: NOT_FOUND,
      },
    ],
  ),

  // ——— The coordinator: publishing, and what residents read ———
  get(`${PLAN}/public`, 'the coordinator', COORDINATOR_PAGE, (c) => ({ url: `${c.plan}/public` })),
  post(`${PLAN}/public/publish-all`, 'the coordinator', COORDINATOR_WRITE, (c) => ({
    url: `${c.plan}/public/publish-all`,
    form: {},
  })),
  post(`${PLAN}/public/aims/:number/publish`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const aim = await c.newAim();
    return { url: `${c.plan}/public/aims/${aim.number}/publish`, form: { version: String(aim.version) } };
  }),
  post(`${PLAN}/public/aims/:number/unpublish`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const aim = await c.newPublishedAim();
    return { url: `${c.plan}/public/aims/${aim.number}/unpublish`, form: { version: String(aim.version) } };
  }),
  get(
    `${PLAN}/public/aims/:number`,
    'the coordinator',
    COORDINATOR_PAGE,
    (c) => ({ url: `${c.plan}/public/aims/3.1` }),
    [
      {
        what: 'an aim that does not exist',
        sample: (c) => ({ url: `${c.plan}/public/aims/9.99` }),
        expect: MISSING_FOR_COORDINATOR,
      },
    ],
  ),
  post(`${PLAN}/public/updates/:id`, 'the coordinator', COORDINATOR_WRITE, async (c) => {
    const update = await c.newProgressUpdate();
    return {
      url: `${c.plan}/public/updates/${update.id}`,
      form: {
        publicText: 'The work is on track.',
        version: String(update.version),
        aim: update.aimNumber,
      },
    };
  }),
];
