/** The permission table's part for evidence: fly-tipping and graffiti counts from a council CSV, and DEFRA's fly-tipping table. See route-permissions.ts. */
import fs from 'node:fs';
import {
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  get,
  MEMBERS,
  MISSING_FOR_MEMBERS,
  outcomes,
  post,
  type RoutePermission,
} from './route-permission-kit.js';

const INCIDENTS = '/p/sosafe/evidence/incidents';
const MANAGE = 'the coordinator: brings in the council’s counts and DEFRA’s table, sets the district';

/**
 * An upload that does not exist: the coordinator is told so; anyone else is refused before it is
 * looked for (test/web/local-incident-pages.test.ts follows a real upload through every step).
 */
const MISSING_FOR_COORDINATOR_PAGE = outcomes(
  'sign-in',
  'not-found',
  'forbidden',
  'forbidden',
  'forbidden',
  'forbidden',
);
const MISSING_FOR_COORDINATOR_WRITE = outcomes(
  'forbidden',
  'not-found',
  'forbidden',
  'forbidden',
  'forbidden',
  'forbidden',
);

/** The illustrative council file of docs/examples, as a coordinator would upload it. */
const exampleCsv = () =>
  fs.readFileSync(new URL('../../docs/examples/council-incidents-example.csv', import.meta.url));
/** DEFRA's actions for Hertfordshire, the demo's own file: importing it again changes nothing. */
const defraActions = () =>
  fs.readFileSync(new URL('../demo/evidence/LA_actions_hertfordshire.csv', import.meta.url));

export const LOCAL_INCIDENT_ROUTES: readonly RoutePermission[] = [
  get(
    '/p/:slug/evidence/incidents',
    'members, the board too: incidents by month and DEFRA’s figures beside the neighbours',
    MEMBERS,
    () => ({ url: INCIDENTS }),
  ),
  get(
    '/p/:slug/evidence/incidents/:table.csv',
    'members, the board too: a table of the page as CSV',
    MEMBERS,
    () => ({ url: `${INCIDENTS}/defra-incidents.csv` }),
    [
      { what: 'the monthly counts', sample: () => ({ url: `${INCIDENTS}/monthly.csv` }), expect: MEMBERS },
      {
        what: 'a table the page does not have',
        sample: () => ({ url: `${INCIDENTS}/nothing.csv` }),
        expect: MISSING_FOR_MEMBERS,
      },
    ],
  ),
  get('/p/:slug/evidence/incidents/upload', MANAGE, COORDINATOR_PAGE, () => ({ url: `${INCIDENTS}/upload` })),
  post('/p/:slug/evidence/incidents/upload', MANAGE, COORDINATOR_WRITE, () => ({
    url: `${INCIDENTS}/upload`,
    files: {
      file: { filename: 'council-incidents-example.csv', content: exampleCsv(), contentType: 'text/csv' },
    },
  })),
  get('/p/:slug/evidence/incidents/uploads/:upload', MANAGE, MISSING_FOR_COORDINATOR_PAGE, () => ({
    url: `${INCIDENTS}/uploads/999999`,
  })),
  post('/p/:slug/evidence/incidents/uploads/:upload', MANAGE, MISSING_FOR_COORDINATOR_WRITE, () => ({
    url: `${INCIDENTS}/uploads/999999`,
    form: {
      dateColumn: 'Date reported',
      kindColumn: 'Type',
      flyTippingValues: 'Fly-tipping',
      graffitiValues: 'Graffiti',
    },
  })),
  get('/p/:slug/evidence/incidents/uploads/:upload/preview', MANAGE, MISSING_FOR_COORDINATOR_PAGE, () => ({
    url: `${INCIDENTS}/uploads/999999/preview`,
  })),
  post('/p/:slug/evidence/incidents/uploads/:upload/preview', MANAGE, MISSING_FOR_COORDINATOR_WRITE, () => ({
    url: `${INCIDENTS}/uploads/999999/preview`,
  })),
  get('/p/:slug/evidence/incidents/settings', MANAGE, COORDINATOR_PAGE, () => ({
    url: `${INCIDENTS}/settings`,
  })),
  post('/p/:slug/evidence/incidents/settings', MANAGE, COORDINATOR_WRITE, () => ({
    url: `${INCIDENTS}/settings`,
    // As the demo set it, with one neighbour fewer: no version, so no check against a stale page.
    form: { districtCode: 'E07000243', neighbourCodes: 'E07000099' },
  })),
  post('/p/:slug/evidence/incidents/settings/defra', MANAGE, COORDINATOR_WRITE, () => ({
    url: `${INCIDENTS}/settings/defra`,
    files: {
      defraFile: {
        filename: 'LA_actions_hertfordshire.csv',
        content: defraActions(),
        contentType: 'text/csv',
      },
    },
  })),
];
