/** The permission table's part for the plan as a spreadsheet (XLSX, CSV): export, and import with a preview. See route-permissions.ts. */
import {
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  MEMBERS,
  PLAN,
  get,
  outcomes,
  post,
  type RoutePermission,
} from './route-permission-kit.js';

/** A small CSV that adds a section: valid, so the upload is kept and its preview shown. */
const SAMPLE_CSV = Buffer.from(
  'Section,Section title,Aim,Aim title,Action\r\n' +
    '98,Permission check,98.1,A permission check aim,Check who may import\r\n',
  'utf8',
);

export const PLAN_SHEET_ROUTES: readonly RoutePermission[] = [
  get(
    `${PLAN}/spreadsheet`,
    'members: the download links; the coordinator also sees the upload form',
    MEMBERS,
    (ctx) => ({ url: `${ctx.plan}/spreadsheet` }),
  ),
  get(`${PLAN}/spreadsheet.xlsx`, 'members: the plan as an Excel workbook', MEMBERS, (ctx) => ({
    url: `${ctx.plan}/spreadsheet.xlsx`,
  })),
  get(`${PLAN}/spreadsheet.csv`, 'members: the plan as a CSV file', MEMBERS, (ctx) => ({
    url: `${ctx.plan}/spreadsheet.csv`,
  })),
  post(
    `${PLAN}/spreadsheet`,
    'the coordinator: uploads a spreadsheet to preview (nothing is written to the plan)',
    COORDINATOR_WRITE,
    (ctx) => ({
      url: `${ctx.plan}/spreadsheet`,
      files: { file: { filename: 'plan.csv', content: SAMPLE_CSV, contentType: 'text/csv' } },
    }),
  ),
  get(
    `${PLAN}/spreadsheet/uploads/:upload`,
    'the coordinator: the preview of a pending upload',
    COORDINATOR_PAGE,
    async (ctx) => ({ url: `${ctx.plan}/spreadsheet/uploads/${(await ctx.newPlanSheetUpload()).id}` }),
    [
      {
        what: 'an upload that does not exist',
        sample: (ctx) => ({ url: `${ctx.plan}/spreadsheet/uploads/999999` }),
        expect: outcomes('sign-in', 'not-found', 'forbidden', 'forbidden', 'forbidden', 'forbidden'),
      },
    ],
  ),
  post(
    `${PLAN}/spreadsheet/uploads/:upload`,
    'the coordinator: confirms a pending upload (here one that changes nothing)',
    COORDINATOR_WRITE,
    async (ctx) => {
      const upload = await ctx.newPlanSheetUpload();
      return {
        url: `${ctx.plan}/spreadsheet/uploads/${upload.id}`,
        form: { fingerprint: upload.fingerprint },
      };
    },
  ),
];
