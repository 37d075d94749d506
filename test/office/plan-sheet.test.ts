/**
 * The plan's XLSX as a reader opens it: LibreOffice converts the workbook to PDF and poppler reads
 * it back. Every section's sheet is printed, and the aims' texts are there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/actor.js';
import { allAims, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { exportPlanSheet } from '../../src/services/plan-sheet.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { openInLibreOffice, type OpenedDocument } from '../support/office.js';

let database: TestDatabase;
let tree: PlanTree;
let xlsx: OpenedDocument;

/** Text as the PDF has it: white space (and hyphenation at a wrapped line) made plain. */
const plain = (text: string) => text.replace(/\s+/g, ' ').trim();

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  const partnership = await getPartnershipBySlug(database.db, 'sosafe');
  tree = await loadPlanTree(database.db, partnership, '2024/25');
  const file = await exportPlanSheet(database.db, systemActor('office test'), partnership, '2024/25', 'xlsx');
  xlsx = await openInLibreOffice(file.body, 'xlsx');
});
afterAll(async () => {
  await database?.drop();
});

describe('the plan as an Excel workbook, opened in LibreOffice', () => {
  it('prints the header row and every aim’s number', () => {
    const text = plain(xlsx.text);
    expect(text).toContain('Section title');
    expect(text).toContain('Action id');
    for (const aim of allAims(tree)) expect(text, aim.number).toContain(aim.number);
  });

  it('holds every aim’s title, word by word in order', () => {
    // A wrapped cell breaks its text over lines, which the PDF's reading order interleaves with
    // the cells beside it: each title's words are found in order, with others between them.
    // Words are split at hyphens too: a wrapped line may break after one ("sign-" / "ups").
    const words = plain(xlsx.text).split(/[\s-]+/);
    for (const aim of allAims(tree)) {
      let at = 0;
      const missing = plain(aim.title)
        .split(/[\s-]+/)
        .filter((word) => {
          const found = words.indexOf(word, at);
          if (found < 0) return true;
          at = found + 1;
          return false;
        });
      expect(missing, `${aim.number} ${aim.title}`).toEqual([]);
    }
  });
});
