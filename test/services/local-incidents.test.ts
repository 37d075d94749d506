/**
 * Local incident data over a real database with the demo loaded: a council CSV through upload,
 * mapping, preview and confirm (a bad date refusing the file by line and writing nothing; the
 * mapping remembered for the next file with the same columns; a second file replacing only its
 * months); DEFRA's Hertfordshire files as the demo imports them, compared with the files read
 * independently; and who may do what.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, evidenceSettings, localIncidentCounts, users } from '../../src/db/schema.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { loadDemo } from '../../src/services/demo.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/services/errors.js';
import {
  confirmIncidentUpload,
  importDefraFiles,
  incidentMappingForm,
  incidentSettingsForm,
  incidentsOverview,
  mapIncidentUpload,
  previewIncidentUpload,
  saveIncidentSettings,
  uploadIncidentCsv,
  type IncidentMappingInput,
} from '../../src/services/local-incidents.js';
import { getPartnershipBySlug, type PartnershipRow } from '../../src/services/plan-read.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const fixture = (name: string) =>
  fs.readFileSync(fileURLToPath(new URL(`../fixtures/council/${name}`, import.meta.url)));
const DEFRA_INCIDENTS = fileURLToPath(
  new URL('../../src/demo/evidence/LA_incidents_hertfordshire.csv', import.meta.url),
);

let database: TestDatabase;
let sosafe: PartnershipRow;
const actors: Record<'coordinator' | 'lead' | 'partner' | 'board' | 'outsider', Actor> = {} as never;

async function actorOf(email: string, partnership: PartnershipRow): Promise<Actor> {
  const [user] = await database.db.select({ id: users.id }).from(users).where(eq(users.email, email));
  const member = await getMember(database.db, user!.id, partnership.id);
  return member ? memberActor(member) : { userId: user!.id, label: email, member: undefined, system: false };
}

beforeAll(async () => {
  database = await createTestDatabase();
  await loadDemo(database.db, 'a demo password for the tests');
  sosafe = await getPartnershipBySlug(database.db, 'sosafe');
  actors.coordinator = await actorOf('coordinator@sosafe.example', sosafe);
  actors.lead = await actorOf('helen.whitehead@sosafe.example', sosafe);
  actors.partner = await actorOf('partner@sosafe.example', sosafe);
  actors.board = await actorOf('board@sosafe.example', sosafe);
  actors.outsider = await actorOf('coordinator@north-herts.example', sosafe);
});
afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;

async function counts() {
  return db()
    .select({
      kind: localIncidentCounts.kind,
      month: localIncidentCounts.month,
      n: localIncidentCounts.incidents,
    })
    .from(localIncidentCounts)
    .where(eq(localIncidentCounts.partnershipId, sosafe.id))
    .orderBy(asc(localIncidentCounts.kind), asc(localIncidentCounts.month));
}

async function imports() {
  return db()
    .select({ summary: auditEvents.summary })
    .from(auditEvents)
    .where(and(eq(auditEvents.partnershipId, sosafe.id), eq(auditEvents.kind, 'local_incidents.imported')));
}

async function upload(name: string, data: Buffer = fixture(name)): Promise<number> {
  const result = await uploadIncidentCsv(db(), actors.coordinator, sosafe, { filename: name, data });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.uploadId;
}

const STREET: IncidentMappingInput = {
  dateColumn: 'Date Received',
  kindColumn: 'Category',
  flyTippingValues: 'Fly tipping',
  graffitiValues: 'Graffiti - offensive\r\n',
  countColumn: '',
};

describe('a council CSV', () => {
  let first: number;

  it('refuses the file when a date cannot be read, naming the line, and writes nothing', async () => {
    // Another feature's settings in the same row must survive the import.
    await db()
      .update(evidenceSettings)
      .set({ triggerComplaints: 5 })
      .where(eq(evidenceSettings.partnershipId, sosafe.id));
    first = await upload('street-scene-reports.csv');
    const form = await incidentMappingForm(db(), actors.coordinator, sosafe, first);
    expect(form.from).toBe('guessed');
    expect(form.columns.map((c) => c.name)).toEqual(['Ref', 'Date Received', 'Category', 'Ward', 'Notes']);
    expect(form.sample[0]!.line).toBe(2);

    const result = await mapIncidentUpload(db(), actors.coordinator, sosafe, first, STREET);
    expect(result).toMatchObject({
      ok: false,
      problems: [{ line: 10, column: 'Date Received', message: 'the date is empty' }],
    });
    await expect(previewIncidentUpload(db(), actors.coordinator, sosafe, first)).rejects.toThrow(
      NotFoundError,
    );
    await expect(confirmIncidentUpload(db(), actors.coordinator, sosafe, first)).rejects.toThrow(
      NotFoundError,
    );
    expect(await counts()).toEqual([]);
    expect(await imports()).toEqual([]);
  });

  it('names a mapping’s missing answers by field', async () => {
    await expect(
      mapIncidentUpload(db(), actors.coordinator, sosafe, first, { ...STREET, kindColumn: 'whole-file' }),
    ).rejects.toSatisfy(
      (e) => e instanceof ValidationError && e.problems.some((p) => p.field === 'wholeKind'),
    );
  });

  it('previews and imports the counts when unreadable rows are left out, remembering the mapping', async () => {
    expect(
      await mapIncidentUpload(db(), actors.coordinator, sosafe, first, { ...STREET, skipUnreadable: 'yes' }),
    ).toEqual({
      ok: true,
    });
    const preview = await previewIncidentUpload(db(), actors.coordinator, sosafe, first);
    expect(preview.months.map((m) => [m.label, m.counts.fly_tipping, m.counts.graffiti])).toEqual([
      ['May 2024', 2, 1],
      ['June 2024', 1, 1],
      ['July 2024', 0, 0],
      ['August 2024', 1, 1],
    ]);
    expect(preview.counts.unreadable).toEqual([
      { line: 10, column: 'Date Received', message: 'the date is empty' },
    ]);
    expect(preview.counts.ignored).toEqual([{ value: 'Abandoned vehicle', rows: 1, lines: [5] }]);
    expect(preview.replaced).toEqual([]);
    expect(await counts()).toEqual([]);

    const result = await confirmIncidentUpload(db(), actors.coordinator, sosafe, first);
    expect(result).toMatchObject({ firstMonth: '2024-05', lastMonth: '2024-08', months: 4, replaced: 0 });
    expect(await counts()).toEqual([
      { kind: 'fly_tipping', month: '2024-05', n: 2 },
      { kind: 'fly_tipping', month: '2024-06', n: 1 },
      { kind: 'fly_tipping', month: '2024-07', n: 0 },
      { kind: 'fly_tipping', month: '2024-08', n: 1 },
      { kind: 'graffiti', month: '2024-05', n: 1 },
      { kind: 'graffiti', month: '2024-06', n: 1 },
      { kind: 'graffiti', month: '2024-07', n: 0 },
      { kind: 'graffiti', month: '2024-08', n: 1 },
    ]);
    expect(await imports()).toHaveLength(1);
    const [settings] = await db()
      .select()
      .from(evidenceSettings)
      .where(eq(evidenceSettings.partnershipId, sosafe.id));
    expect(settings).toMatchObject({ triggerComplaints: 5, districtCode: 'E07000243' });
    expect(settings!.incidentMapping).toMatchObject({
      dateColumn: 'Date Received',
      graffitiValues: ['Graffiti - offensive'],
    });
    // The upload is used up.
    await expect(confirmIncidentUpload(db(), actors.coordinator, sosafe, first)).rejects.toThrow(
      NotFoundError,
    );
  });

  it('fills the next file’s mapping from the last one, and replaces only the months it covers', async () => {
    const next = await upload(
      'august-september.csv',
      Buffer.from(
        'Ref;Date Received;Category;Ward;Notes\n' +
          'SS-201;02/08/2024;Fly tipping;Bedwell;\n' +
          'SS-202;12/08/2024;Fly tipping;Chells;\n' +
          'SS-203;01/09/2024;Graffiti - offensive;Old Town;\n',
      ),
    );
    const form = await incidentMappingForm(db(), actors.coordinator, sosafe, next);
    expect(form.from).toBe('remembered');
    expect(form.mapping).toMatchObject({
      dateColumn: 'Date Received',
      kindColumn: 'Category',
      flyTippingValues: ['Fly tipping'],
      graffitiValues: ['Graffiti - offensive'],
      skipUnreadable: true,
    });
    expect(await mapIncidentUpload(db(), actors.coordinator, sosafe, next, STREET)).toEqual({ ok: true });
    const preview = await previewIncidentUpload(db(), actors.coordinator, sosafe, next);
    expect(preview.replaced.map((r) => [r.kind, r.month, r.before, r.after])).toEqual([
      ['fly_tipping', '2024-08', 1, 2],
      ['graffiti', '2024-08', 1, 0],
    ]);
    await confirmIncidentUpload(db(), actors.coordinator, sosafe, next);
    const now = await counts();
    expect(now.filter((c) => c.month >= '2024-08')).toEqual([
      { kind: 'fly_tipping', month: '2024-08', n: 2 },
      { kind: 'fly_tipping', month: '2024-09', n: 0 },
      { kind: 'graffiti', month: '2024-08', n: 0 },
      { kind: 'graffiti', month: '2024-09', n: 1 },
    ]);
    expect(now.filter((c) => c.month === '2024-05')).toHaveLength(2);

    // A file with other columns starts from a guess.
    const other = await upload('monthly-totals.csv');
    expect((await incidentMappingForm(db(), actors.coordinator, sosafe, other)).from).toBe('guessed');
  });

  it('shows the months held to every member, the board too', async () => {
    const overview = await incidentsOverview(db(), actors.board, sosafe);
    expect(overview.months.map((m) => m.month)).toEqual([
      '2024-05',
      '2024-06',
      '2024-07',
      '2024-08',
      '2024-09',
    ]);
    expect(overview.months.at(-1)!.counts).toEqual({ fly_tipping: 0, graffiti: 1 });
    expect(overview.kindsHeld).toEqual(['fly_tipping', 'graffiti']);
  });
});

describe("DEFRA's table", () => {
  const published = (
    parse(fs.readFileSync(DEFRA_INCIDENTS, 'utf8'), { columns: true }) as Record<string, string>[]
  ).map((r) => ({
    year: r.Year!,
    code: r['ONS Code']!,
    total: r['Total Incidents']!,
    population: r['Mid population estimates ']!,
  }));

  it('shows the district beside the county’s other districts, with the file’s figures', async () => {
    const { defra } = await incidentsOverview(db(), actors.partner, sosafe);
    expect(defra.district).toEqual({ code: 'E07000243', name: 'Stevenage' });
    expect(defra.authorities).toHaveLength(10);
    expect(defra.authorities[0]).toMatchObject({ code: 'E07000243', isDistrict: true });
    expect(defra.authorities.map((a) => a.name)).toContain('North Hertfordshire');
    expect(defra.years).toHaveLength(10);
    for (const a of defra.authorities) {
      for (const year of defra.years) {
        const row = published.find((r) => r.code === a.code && r.year === year)!;
        expect(a.incidents[year]).toBe(Number(row.total));
        expect(a.population[year]).toBe(row.population === ':' ? null : Number(row.population));
      }
    }
    expect(defra.authorities[0]!.incidents['2012-13']).toBe(2403);
  });

  it('replaces the figures of the years and authorities in a file, and refuses a bad file whole', async () => {
    const text = fs.readFileSync(DEFRA_INCIDENTS, 'utf8');
    const header = text.split('\n')[0]!;
    const stevenage = text.split('\n').find((l) => l.startsWith('2021-22,E07000243'))!;
    const changed = stevenage.replace(',3223,', ',3300,');
    await importDefraFiles(
      db(),
      actors.coordinator,
      [{ name: 'one.csv', data: `${header}\n${changed}\n` }],
      sosafe,
    );
    let { defra } = await incidentsOverview(db(), actors.coordinator, sosafe);
    expect(defra.authorities[0]!.incidents['2021-22']).toBe(3300);
    // North Herts' 2021-22, not in that file, is untouched.
    expect(defra.authorities.find((a) => a.code === 'E07000099')!.incidents['2021-22']).toBe(1601);

    const bad = `${header}\n${stevenage}\n2021-22,E07000099,North Hertfordshire,Eastern,many\n`;
    await expect(
      importDefraFiles(db(), systemActor(), [
        { name: 'good.csv', data: text },
        { name: 'bad.csv', data: bad },
      ]),
    ).rejects.toThrow(/bad\.csv: line 3, column “Total Incidents”/);
    ({ defra } = await incidentsOverview(db(), actors.coordinator, sosafe));
    expect(defra.authorities[0]!.incidents['2021-22']).toBe(3300);

    await importDefraFiles(db(), systemActor(), [{ name: 'LA_incidents_hertfordshire.csv', data: text }]);
    ({ defra } = await incidentsOverview(db(), actors.coordinator, sosafe));
    expect(defra.authorities[0]!.incidents['2021-22']).toBe(3223);
  });

  it('saves the district and neighbours with the version, refusing a stale one and an unknown code', async () => {
    const form = await incidentSettingsForm(db(), actors.coordinator, sosafe);
    expect(form.values.districtCode).toBe('E07000243');
    expect(form.values.neighbourCodes).toHaveLength(9);
    const version = String(form.settings.version);
    const saved = await saveIncidentSettings(db(), actors.coordinator, sosafe, {
      districtCode: 'E07000243',
      neighbourCodes: ['E07000099', 'E07000241', 'E07000243'],
      version,
    });
    expect(saved.neighbourCodes).toEqual(['E07000099', 'E07000241']);
    await expect(
      saveIncidentSettings(db(), actors.coordinator, sosafe, { districtCode: 'E07000243', version }),
    ).rejects.toThrow(ConflictError);
    await expect(
      saveIncidentSettings(db(), actors.coordinator, sosafe, { districtCode: 'E09999999' }),
    ).rejects.toThrow(ValidationError);
    const { defra } = await incidentsOverview(db(), actors.board, sosafe);
    expect(defra.authorities.map((a) => a.name)).toEqual([
      'Stevenage',
      'North Hertfordshire',
      'Welwyn Hatfield',
    ]);
    const [settings] = await db()
      .select()
      .from(evidenceSettings)
      .where(eq(evidenceSettings.partnershipId, sosafe.id));
    expect(settings!.triggerComplaints).toBe(5);
  });
});

describe('who may', () => {
  it('lets members read and only the coordinator change', async () => {
    for (const who of ['lead', 'partner', 'board'] as const) {
      await expect(incidentsOverview(db(), actors[who], sosafe)).resolves.toBeDefined();
      await expect(
        uploadIncidentCsv(db(), actors[who], sosafe, {
          filename: 'x.csv',
          data: fixture('monthly-totals.csv'),
        }),
      ).rejects.toThrow(ForbiddenError);
      await expect(
        saveIncidentSettings(db(), actors[who], sosafe, { districtCode: 'E07000243' }),
      ).rejects.toThrow(ForbiddenError);
      await expect(
        importDefraFiles(db(), actors[who], [{ name: 'x.csv', data: 'Year' }], sosafe),
      ).rejects.toThrow(ForbiddenError);
    }
    // Another partnership's coordinator reads nothing of SoSafe's and changes nothing.
    await expect(incidentsOverview(db(), actors.outsider, sosafe)).rejects.toThrow(ForbiddenError);
    await expect(incidentSettingsForm(db(), actors.outsider, sosafe)).rejects.toThrow(ForbiddenError);
    const mine = await upload('monthly-totals.csv');
    await expect(incidentMappingForm(db(), actors.outsider, sosafe, mine)).rejects.toThrow(ForbiddenError);
    await expect(confirmIncidentUpload(db(), actors.partner, sosafe, mine)).rejects.toThrow(ForbiddenError);
  });
});
