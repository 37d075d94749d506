/** The permission table's part for funding lines and the PCC’s half-year budget report. See route-permissions.ts. */
import {
  BEARER_TOKEN,
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  get,
  MEMBERS,
  MISSING_FOR_MEMBERS,
  PLAN,
  post,
  PROGRESS_PAGE_OWN,
  PROGRESS_WRITE_OWN,
  type RoutePermission,
  type SampleContext,
} from './route-permission-kit.js';

const READ = 'members, the board (and the PCC’s office) too';
const WRITE =
  'the coordinator, any line; a lead officer, the lines of the actions they lead (not lines for a whole aim)';

/** The form of a funding line: spent, £250, on the sample line's own action. */
const lineForm = (line: { actionId: number; version?: number }) => ({
  actionId: String(line.actionId),
  source: 'Permission check fund',
  amount: '250',
  state: 'awarded',
  'appliedOn-day': '1',
  'appliedOn-month': '5',
  'appliedOn-year': '2024',
  'awardedOn-day': '1',
  'awardedOn-month': '6',
  'awardedOn-year': '2024',
  ...(line.version === undefined ? {} : { version: String(line.version) }),
});

const HELEN = 'CCSU: Helen Whitehead';
const SOMEONE_ELSE = 'Police: NPT Inspector';

/** GET and POST of a line's page (change, archive): her action's line, someone else's, none. */
function linePages(
  path: 'edit' | 'archive',
  form: (line: { id: number; version: number; actionId: number }) => Record<string, string>,
): RoutePermission[] {
  const url = (c: SampleContext, id: number) => `${c.plan}/funding/${id}/${path}`;
  return [
    get(
      `${PLAN}/funding/:id/${path}`,
      WRITE,
      PROGRESS_PAGE_OWN,
      async (c) => ({ url: url(c, (await c.newFundingLine(HELEN)).id) }),
      [
        {
          what: 'a line on an action the lead officer does not lead',
          sample: async (c) => ({ url: url(c, (await c.newFundingLine(SOMEONE_ELSE)).id) }),
          expect: COORDINATOR_PAGE,
        },
        {
          what: 'a line that does not exist',
          sample: (c) => ({ url: url(c, 999_999) }),
          expect: MISSING_FOR_MEMBERS,
        },
      ],
    ),
    post(
      `${PLAN}/funding/:id/${path}`,
      WRITE,
      PROGRESS_WRITE_OWN,
      async (c) => {
        const line = await c.newFundingLine(HELEN);
        return { url: url(c, line.id), form: form(line) };
      },
      [
        {
          what: 'a line on an action the lead officer does not lead',
          sample: async (c) => {
            const line = await c.newFundingLine(SOMEONE_ELSE);
            return { url: url(c, line.id), form: form(line) };
          },
          expect: COORDINATOR_WRITE,
        },
      ],
    ),
  ];
}

export const FUNDING_ROUTES: readonly RoutePermission[] = [
  get(`${PLAN}/funding`, `${READ}: every line, the totals, the PCC’s reports`, MEMBERS, (c) => ({
    url: `${c.plan}/funding?state=received`,
  })),
  get(`${PLAN}/funding/new`, WRITE, PROGRESS_PAGE_OWN, (c) => ({ url: `${c.plan}/funding/new?aim=3.1` }), [
    {
      what: 'an aim none of whose actions the lead officer leads',
      sample: (c) => ({ url: `${c.plan}/funding/new?aim=2.2` }),
      expect: COORDINATOR_PAGE,
    },
    {
      what: 'an aim that does not exist',
      sample: (c) => ({ url: `${c.plan}/funding/new?aim=9.9` }),
      expect: MISSING_FOR_MEMBERS,
    },
  ]),
  post(
    `${PLAN}/funding/new`,
    WRITE,
    PROGRESS_WRITE_OWN,
    async (c) => {
      const line = await c.newFundingLine(HELEN);
      return { url: `${c.plan}/funding/new?aim=${line.aimNumber}`, form: lineForm(line) };
    },
    [
      {
        what: 'on an action the lead officer does not lead',
        sample: async (c) => {
          const line = await c.newFundingLine(SOMEONE_ELSE);
          return { url: `${c.plan}/funding/new?aim=${line.aimNumber}`, form: lineForm(line) };
        },
        expect: COORDINATOR_WRITE,
      },
    ],
  ),
  ...linePages('edit', lineForm),
  ...linePages('archive', (line) => ({ version: String(line.version) })),
  get('/api/v1/partnerships/:slug/plans/:year/funding', 'a token of the partnership', BEARER_TOKEN, (c) => ({
    url: `/api/v1/partnerships/sosafe/plans/${c.plan.split('/').at(-1)!}/funding`,
  })),
  ...(['docx', 'xlsx'] as const).map((extension) =>
    get(
      `${PLAN}/funding/pcc-report-:half.${extension}`,
      `${READ}: the PCC’s half-year budget report`,
      MEMBERS,
      (c) => ({ url: `${c.plan}/funding/pcc-report-H1.${extension}` }),
      [
        {
          what: 'a half that does not exist',
          sample: (c) => ({ url: `${c.plan}/funding/pcc-report-H3.${extension}` }),
          expect: MISSING_FOR_MEMBERS,
        },
      ],
    ),
  ),
];
