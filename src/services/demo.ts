/**
 * The demo partnership: SoSafe Stevenage's real 2024/25 plan, loaded through the same import code
 * as a user's file, with one account for each role.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from '../db/client.js';
import { parsePlanFileJson, type PlanFile } from '../domain/plan-file.js';
import type { Role } from '../domain/permissions.js';
import { systemActor } from './actor.js';
import { importPlanFile, type ImportSummary } from './plan-import.js';
import { addUser, countUsers } from './users.js';
import { listPartnerships } from './plan-read.js';

export const DEMO_FILE = fileURLToPath(new URL('../demo/sosafe-2024-25.json', import.meta.url));

export interface DemoAccount {
  email: string;
  name: string;
  role: Role;
  organisation?: string;
  person?: string;
  what: string;
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  {
    email: 'coordinator@sosafe.example',
    name: 'Casey Coordinator',
    role: 'coordinator',
    organisation: 'SBC',
    what: 'owns the plan: edits sections, aims and actions',
  },
  {
    email: 'helen.whitehead@sosafe.example',
    name: 'Helen Whitehead',
    role: 'lead_officer',
    organisation: 'CCSU',
    person: 'Helen Whitehead',
    what: 'lead officer for aim 3.1: records progress on the actions she leads',
  },
  {
    email: 'tania.king@sosafe.example',
    name: 'Tania King',
    role: 'lead_officer',
    organisation: 'SADA',
    person: 'Tania King',
    what: 'lead officer (SADA) for aims 2.1 to 2.4 and 5.5: a second lead for the quarterly round',
  },
  {
    email: 'partner@sosafe.example',
    name: 'Pat Partner',
    role: 'partner',
    organisation: 'Police',
    what: 'JAG member: reads the whole plan',
  },
  {
    email: 'board@sosafe.example',
    name: 'Bobbie Board',
    role: 'board_member',
    what: 'partnership board: reads the plan',
  },
];

export function readDemoFile(): PlanFile {
  const result = parsePlanFileJson(fs.readFileSync(DEMO_FILE, 'utf8'));
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

export async function loadDemo(
  db: Db,
  password: string,
): Promise<{ summary: ImportSummary; accounts: readonly DemoAccount[] }> {
  const actor = systemActor('demo loader');
  const summary = await importPlanFile(db, readDemoFile(), actor, { viaDemo: true });
  for (const account of DEMO_ACCOUNTS) {
    await addUser(
      db,
      {
        email: account.email,
        name: account.name,
        password,
        partnership: 'sosafe',
        role: account.role,
        organisation: account.organisation,
        person: account.person,
      },
      actor,
    );
  }
  return { summary, accounts: DEMO_ACCOUNTS };
}
