/** The permission table's part for evidence: police.uk files uploaded on the web and imported with progress. See route-permissions.ts. */
import fs from 'node:fs';
import { policeUkImportsIdle } from '../services/police-uk.js';
import {
  COORDINATOR_PAGE,
  COORDINATOR_WRITE,
  get,
  outcomes,
  post,
  type RoutePermission,
  type SampleContext,
} from './route-permission-kit.js';

/** The first rows of the real January 2022 Hertfordshire street file: a small police.uk file. */
export const POLICE_UK_SAMPLE = fs
  .readFileSync(
    new URL('../demo/evidence/policeuk/2022-01-hertfordshire-street.csv', import.meta.url),
    'utf8',
  )
  .split('\n')
  .slice(0, 21)
  .join('\n');

const RULE = 'the coordinator: police.uk data is brought in by the partnership’s coordinator';
const UPLOAD = '/p/sosafe/evidence/police-uk';

/** An import that does not exist: the coordinator is told so; anyone else is refused as for any import. */
const MISSING_IMPORT = outcomes('sign-in', 'not-found', 'forbidden', 'forbidden', 'forbidden', 'forbidden');

/**
 * An upload imports in the background and records its audit events when it ends: each sample waits
 * for the imports before it, so a refused request's check of the audit trail sees none of theirs.
 */
async function uploadSample() {
  await policeUkImportsIdle();
  return {
    url: UPLOAD,
    files: {
      files: {
        filename: 'sample-street.csv',
        content: Buffer.from(POLICE_UK_SAMPLE),
        contentType: 'text/csv',
      },
    },
  };
}

async function importSample(c: SampleContext, suffix: '' | '.json') {
  const { id } = await c.newPoliceUkImport();
  return { url: `${UPLOAD}/imports/${id}${suffix}` };
}

export const POLICE_UPLOAD_ROUTES: readonly RoutePermission[] = [
  get('/p/:slug/evidence/police-uk', RULE, COORDINATOR_PAGE, async () => {
    await policeUkImportsIdle();
    return { url: UPLOAD };
  }),
  post('/p/:slug/evidence/police-uk', RULE, COORDINATOR_WRITE, uploadSample),
  ...(['', '.json'] as const).map((suffix) =>
    get(
      `/p/:slug/evidence/police-uk/imports/:id${suffix}`,
      `${RULE}: an import’s progress${suffix ? ' as JSON, for the page’s script' : ''}`,
      COORDINATOR_PAGE,
      (c) => importSample(c, suffix),
      [
        {
          what: 'an import that does not exist',
          sample: () => ({ url: `${UPLOAD}/imports/999999${suffix}` }),
          expect: MISSING_IMPORT,
        },
      ],
    ),
  ),
];
