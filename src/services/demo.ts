/**
 * The demo partnerships: SoSafe Stevenage's real 2024/25 plan, and a smaller illustrative North Herts
 * plan beside it (for the county view), loaded through the same import code as a user's file, with one
 * account for each role and one police inspector who holds roles in both.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from '../db/client.js';
import { parsePlanFileJson, type PlanFile } from '../domain/plan-file.js';
import type { Role } from '../domain/permissions.js';
import { systemActor } from './actor.js';
import { importPlanFile, type ImportSummary } from './plan-import.js';
import { addMembership, addUser, countUsers } from './users.js';
import { listPartnerships } from './plan-read.js';
import { setPartnershipArea } from './police-uk.js';
import { loadDefraDemo } from './local-incidents.js';
import { loadDemoPoliceUk } from './police-trends.js';
import { loadDemoCaseReviewFigures } from './case-reviews.js';

export const DEMO_FILE = fileURLToPath(new URL('../demo/sosafe-2024-25.json', import.meta.url));
/** Not North Herts' published plan: an illustrative one, so the demo has a second partnership. */
export const NORTH_HERTS_DEMO_FILE = fileURLToPath(
  new URL('../demo/north-herts-2024-25.json', import.meta.url),
);

export interface DemoRole {
  /** The partnership's slug. */
  partnership: string;
  role: Role;
  organisation?: string;
  person?: string;
}

export interface DemoAccount extends DemoRole {
  email: string;
  name: string;
  what: string;
  /** Roles in further partnerships, for a person who works across districts. */
  alsoIn?: readonly DemoRole[];
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  {
    email: 'coordinator@sosafe.example',
    name: 'Casey Coordinator',
    partnership: 'sosafe',
    role: 'coordinator',
    organisation: 'SBC',
    what: 'owns the plan: edits sections, aims and actions',
  },
  {
    email: 'helen.whitehead@sosafe.example',
    name: 'Helen Whitehead',
    partnership: 'sosafe',
    role: 'lead_officer',
    organisation: 'CCSU',
    person: 'Helen Whitehead',
    what: 'lead officer for aim 3.1: records progress on the actions she leads',
  },
  {
    email: 'tania.king@sosafe.example',
    name: 'Tania King',
    partnership: 'sosafe',
    role: 'lead_officer',
    organisation: 'SADA',
    person: 'Tania King',
    what: 'lead officer (SADA) for aims 2.1 to 2.4 and 5.5: a second lead for the quarterly round',
  },
  {
    email: 'partner@sosafe.example',
    name: 'Pat Partner',
    partnership: 'sosafe',
    role: 'partner',
    organisation: 'Police',
    what: 'JAG member: reads the whole plan',
  },
  {
    email: 'board@sosafe.example',
    name: 'Bobbie Board',
    partnership: 'sosafe',
    role: 'board_member',
    what: 'partnership board: reads the plan',
  },
  {
    email: 'coordinator@north-herts.example',
    name: 'Nat Coordinator',
    partnership: 'north-herts',
    role: 'coordinator',
    organisation: 'NHC',
    what: 'owns the (illustrative) North Herts plan',
  },
  {
    email: 'inspector@herts-police.example',
    name: 'Sam Patel',
    partnership: 'north-herts',
    role: 'lead_officer',
    organisation: 'Police',
    person: 'Sam Patel',
    what: 'police inspector: lead officer in North Herts, partner in SoSafe; sees both in the county view',
    alsoIn: [{ partnership: 'sosafe', role: 'partner', organisation: 'Police' }],
  },
];

/** The SoSafe plan file (the default), or another demo file such as NORTH_HERTS_DEMO_FILE. */
export function readDemoFile(file: string = DEMO_FILE): PlanFile {
  const result = parsePlanFileJson(fs.readFileSync(file, 'utf8'));
  if (!result.ok) {
    // The demo file ships with the code and is tested; this only fires if it was edited badly.
    throw new Error(
      `The demo plan file is not valid: ${result.problems.map((p) => `${p.where} ${p.message}`).join('; ')}`,
    );
  }
  return result.file;
}

export function generateDemoPassword(): string {
  return crypto.randomBytes(12).toString('base64url');
}

/** True when there is nothing in the database yet: no partnership and no account. */
export async function isEmptyDatabase(db: Db): Promise<boolean> {
  return (await listPartnerships(db)).length === 0 && (await countUsers(db)) === 0;
}

/**
 * Loads both demo partnerships and their accounts. `summary` is SoSafe's import (the main demo);
 * `summaries` holds every partnership's, SoSafe first.
 */
export async function loadDemo(
  db: Db,
  password: string,
): Promise<{ summary: ImportSummary; summaries: ImportSummary[]; accounts: readonly DemoAccount[] }> {
  const actor = systemActor('demo loader');
  const summary = await importPlanFile(db, readDemoFile(), actor, { viaDemo: true });
  const northHerts = await importPlanFile(db, readDemoFile(NORTH_HERTS_DEMO_FILE), actor, { viaDemo: true });
  for (const account of DEMO_ACCOUNTS) {
    const { userId } = await addUser(
      db,
      {
        email: account.email,
        name: account.name,
        password,
        partnership: account.partnership,
        role: account.role,
        organisation: account.organisation,
        person: account.person,
      },
      actor,
    );
    for (const more of account.alsoIn ?? []) await addMembership(db, { userId, ...more }, actor);
  }
  // SoSafe's police.uk area: Stevenage's LSOAs, whose names all begin "Stevenage ".
  await setPartnershipArea(db, actor, 'sosafe', { codes: [], prefixes: ['Stevenage '] });
  await loadDemoCaseReviewFigures(db, actor); // North Herts's published Community Trigger figures
  await loadDemoPoliceUk(db, actor);
  await loadDefraDemo(db, actor);
  return { summary, summaries: [summary, northHerts], accounts: DEMO_ACCOUNTS };
}
