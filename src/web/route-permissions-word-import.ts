/** The permission table's part for importing a Word action plan, with a preview to correct. See route-permissions.ts. */
import {
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  get,
  outcomes,
  post,
  type RoutePermission,
} from './route-permission-kit.js';

const START = '/p/:slug/word-import';
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
/** An upload that does not exist: the coordinator is told so; anyone else is refused first. */
const MISSING_UPLOAD = outcomes('sign-in', 'not-found', 'forbidden', 'forbidden', 'forbidden', 'forbidden');

export const WORD_IMPORT_ROUTES: readonly RoutePermission[] = [
  get(START, 'the coordinator: the upload form', COORDINATOR_PAGE, () => ({ url: '/p/sosafe/word-import' })),
  post(
    START,
    'the coordinator: uploads a Word plan to preview (nothing is written to the plan)',
    COORDINATOR_WRITE,
    async (ctx) => ({
      url: '/p/sosafe/word-import',
      files: { file: { filename: 'plan.docx', content: await ctx.wordPlanDocx(), contentType: DOCX } },
    }),
  ),
  get(
    `${START}/:id`,
    'the coordinator who uploaded it: the preview to correct, or what it became once saved',
    COORDINATOR_PAGE,
    async (ctx) => ({ url: `/p/sosafe/word-import/${(await ctx.newWordUpload()).id}` }),
    [
      {
        what: 'an upload that does not exist',
        sample: () => ({ url: '/p/sosafe/word-import/999999' }),
        expect: MISSING_UPLOAD,
      },
    ],
  ),
  post(
    `${START}/:id`,
    'the coordinator who uploaded it: corrects what was read (nothing is written to the plan)',
    COORDINATOR_WRITE,
    async (ctx) => ({
      url: `/p/sosafe/word-import/${(await ctx.newWordUpload()).id}`,
      form: { title: 'Permission check plan' },
    }),
  ),
  post(
    `${START}/:id/save`,
    'the coordinator who uploaded it: saves it as a new plan year (here a small one, in a year of its own)',
    COORDINATOR_WRITE,
    async (ctx) => ({ url: `/p/sosafe/word-import/${(await ctx.newWordUpload()).id}/save`, form: {} }),
    [
      {
        what: 'an upload that does not exist',
        sample: () => ({ url: '/p/sosafe/word-import/999999/save', form: {} }),
        expect: outcomes('forbidden', 'not-found', 'forbidden', 'forbidden', 'forbidden', 'forbidden'),
      },
    ],
  ),
];
