/** The permission table's part for evidence: police.uk trends for a partnership's area, priority links, the area itself. See route-permissions.ts. */
import {
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  get,
  MEMBERS,
  MISSING_FOR_MEMBERS,
  post,
  type RoutePermission,
} from './route-permission-kit.js';

const CRIME = '/p/sosafe/evidence/crime';

export const POLICE_TREND_ROUTES: readonly RoutePermission[] = [
  get(
    '/p/:slug/evidence/crime',
    'members, the board too: the area’s police.uk trends beside the force’s',
    MEMBERS,
    () => ({ url: CRIME }),
    [{ what: 'the last 3 months', sample: () => ({ url: `${CRIME}?months=3` }), expect: MEMBERS }],
  ),
  get(
    '/p/:slug/evidence/crime/:table.csv',
    'members, the board too: a table of the trends as CSV',
    MEMBERS,
    () => ({ url: `${CRIME}/hotspots-3.csv` }),
    [
      {
        what: 'a table the page does not have',
        sample: () => ({ url: `${CRIME}/nothing.csv` }),
        expect: MISSING_FOR_MEMBERS,
      },
    ],
  ),
  get(
    '/p/:slug/evidence/crime/priorities',
    'members read the links between crime types and priorities; the coordinator changes them',
    MEMBERS,
    () => ({ url: `${CRIME}/priorities` }),
  ),
  post(
    '/p/:slug/evidence/crime/priorities',
    'the coordinator: links crime types to the plan’s priorities',
    COORDINATOR_WRITE,
    async (c) => ({
      url: `${CRIME}/priorities`,
      form: { basis: await c.priorityLinksBasis(), use: 'suggested' },
    }),
  ),
  get(
    '/p/:slug/evidence/area',
    'the coordinator: the partnership’s area for police.uk data',
    COORDINATOR_PAGE,
    () => ({ url: '/p/sosafe/evidence/area' }),
  ),
  post(
    '/p/:slug/evidence/area',
    'the coordinator: sets the area (the demo’s own, so nothing changes)',
    COORDINATOR_WRITE,
    () => ({ url: '/p/sosafe/evidence/area', form: { prefixes: 'Stevenage', codes: '' } }),
  ),
];
