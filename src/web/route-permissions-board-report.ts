/** The permission table's part for the quarter’s board report (HTML, DOCX, PDF). See route-permissions.ts. */
import { get, MEMBERS, MISSING_FOR_MEMBERS, PLAN, type RoutePermission } from './route-permission-kit.js';

/**
 * Anyone who may read the plan, the board too: the final report of a closed quarter (Q1, closed
 * for the snapshots), a draft of a quarter still open (Q4) or never opened (Q3).
 */
export const BOARD_REPORT_ROUTES: readonly RoutePermission[] = (
  ['report', 'report.docx', 'report.pdf'] as const
).map((file) =>
  get(
    `${PLAN}/quarters/:q/${file}`,
    'members, the board too: the quarter’s report to the board (a draft until the quarter is closed)',
    MEMBERS,
    async (c) => {
      await c.quarter(1, 'closed');
      return { url: `${c.plan}/quarters/1/${file}` };
    },
    [
      {
        what: 'a draft: a quarter open for updates',
        sample: async (c) => {
          await c.quarter(4, 'open');
          return { url: `${c.plan}/quarters/4/${file}` };
        },
        expect: MEMBERS,
      },
      {
        what: 'a draft: a quarter never opened',
        sample: (c) => ({ url: `${c.plan}/quarters/3/${file}` }),
        expect: MEMBERS,
      },
      {
        what: 'a quarter that does not exist',
        sample: (c) => ({ url: `${c.plan}/quarters/5/${file}` }),
        expect: MISSING_FOR_MEMBERS,
      },
    ],
  ),
);
