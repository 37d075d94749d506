/** The permission table's part for the partnership dashboard. See route-permissions.ts. */
import { get, MEMBERS, MISSING_FOR_MEMBERS, PLAN, type RoutePermission } from './route-permission-kit.js';

/** Anyone who may read the plan, the board too: the dashboard of a quarter, and each of its tables as CSV. */
export const DASHBOARD_ROUTES: readonly RoutePermission[] = [
  get(
    `${PLAN}/dashboard`,
    'members, the board too: the dashboard of a quarter (default: the latest with updates or open)',
    MEMBERS,
    (c) => ({ url: `${c.plan}/dashboard` }),
    [
      {
        what: 'a quarter chosen, with a quarter open for updates',
        sample: async (c) => {
          await c.quarter(4, 'open');
          return { url: `${c.plan}/dashboard?quarter=2` };
        },
        expect: MEMBERS,
      },
      {
        what: 'a quarter that does not exist',
        sample: (c) => ({ url: `${c.plan}/dashboard?quarter=5` }),
        expect: MISSING_FOR_MEMBERS,
      },
    ],
  ),
  get(
    `${PLAN}/dashboard/:table.csv`,
    'members, the board too: a table of the dashboard as CSV',
    MEMBERS,
    (c) => ({ url: `${c.plan}/dashboard/by-section.csv?quarter=3` }),
    [
      {
        what: 'the coverage matrix, default quarter',
        sample: (c) => ({ url: `${c.plan}/dashboard/priority-coverage.csv` }),
        expect: MEMBERS,
      },
      {
        what: 'a table the dashboard does not have',
        sample: (c) => ({ url: `${c.plan}/dashboard/nothing.csv` }),
        expect: MISSING_FOR_MEMBERS,
      },
    ],
  ),
];
