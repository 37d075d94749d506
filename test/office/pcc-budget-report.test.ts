/**
 * The PCC's half-year budget report as a reader opens it: the DOCX and the XLSX converted to PDF
 * by LibreOffice and read back by poppler. Both carry the cover's facts, the totals and the demo's
 * £10,000 from the Letchworth Heritage Foundation; the DOCX is A4 landscape; the XLSX keeps its
 * money as numbers with a £ format (read back with exceljs).
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePccBudgetReportDocx } from '../../src/documents/pcc-budget-report-docx.js';
import { MONEY_FORMAT, writePccBudgetReportXlsx } from '../../src/documents/pcc-budget-report-xlsx.js';
import type { PccBudgetReport } from '../../src/domain/funding.js';
import { systemActor } from '../../src/services/actor.js';
import { createFundingLine, pccBudgetReport } from '../../src/services/funding.js';
import { findAim, getPartnershipBySlug, loadPlanTree } from '../../src/services/plan-read.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { openInLibreOffice, type OpenedDocument } from '../support/office.js';

let database: TestDatabase;
let h1: PccBudgetReport;
let h2: PccBudgetReport;
let docx: OpenedDocument;
let xlsx: OpenedDocument;
let xlsxBytes: Buffer;

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  const tree = await loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
  // A line of H2, so the halves differ: £4,250.50 awarded in November.
  await createFundingLine(database.db, systemActor(), findAim(tree, '5.5').aim.id, {
    source: 'PCC Community Safety Fund',
    amount: '4,250.50',
    state: 'awarded',
    awardedOn: '2024-11-12',
  });
  const preparedAt = new Date('2025-04-03T09:00:00Z');
  h1 = await pccBudgetReport(database.db, systemActor(), tree.plan.id, 'H1', preparedAt);
  h2 = await pccBudgetReport(database.db, systemActor(), tree.plan.id, 'H2', preparedAt);
  docx = await openInLibreOffice(await writePccBudgetReportDocx(h1), 'docx');
  xlsxBytes = await writePccBudgetReportXlsx(h2);
  xlsx = await openInLibreOffice(xlsxBytes, 'xlsx');
});
afterAll(async () => {
  await database?.drop();
});

describe('the DOCX (H1)', () => {
  it('is A4 landscape, with a cover naming the partnership, the plan year, the half and its dates', () => {
    expect(Math.round(docx.pageSize.width)).toBe(842);
    expect(Math.round(docx.pageSize.height)).toBe(595);
    const cover = docx.pages[0]!.replace(/\s+/g, ' ');
    expect(cover).toContain('Budget report to the Police and Crime Commissioner');
    expect(cover).toContain('H1 2024/25: April to September');
    expect(cover).toContain('SoSafe Stevenage, Stevenage');
    expect(cover).toContain('Half year H1: 1 April 2024 to 30 September 2024');
    expect(cover).toContain('Prepared on 3 April 2025');
    expect(cover).toContain('6 funding lines totalling £10,000.00');
  });

  it('has the totals by state, source, priority and section, and the lines behind them', () => {
    for (const heading of ['By state', 'By source', 'By priority', 'By section', 'The funding lines'])
      expect(docx.text).toContain(heading);
    expect(docx.text).toMatch(
      /Letchworth Heritage Foundation 1 £0\.00 £0\.00 £10,000\.00 £0\.00 £10,000\.00 £0\.00/,
    );
    expect(docx.text).toMatch(/Total 6 £0\.00 £0\.00 £10,000\.00 £0\.00 £10,000\.00 £0\.00/);
    expect(docx.text).toContain('its lines are counted under each');
    // The Letchworth line's step, "Received 30 June 2024": the cell is narrow, and where its words
    // wrap (which depends on the fonts installed) the next cells' lines come between them in the
    // PDF's text.
    expect(docx.text).toMatch(/Received 30\b[\s\S]{0,300}?\bJune\b[\s\S]{0,300}?\b2024\b/);
    // The H2 line had not started by 30 September.
    expect(docx.text).not.toContain('£4,250.50');
  });
});

describe('the XLSX (H2)', () => {
  it('opens in LibreOffice with its Summary and Lines, the totals and the Letchworth line', () => {
    expect(xlsx.text).toContain('Budget report to the Police and Crime Commissioner');
    expect(xlsx.text).toContain('H2 2024/25: October to March: 1 October 2024 to 31 March 2025');
    expect(xlsx.text).toContain('Letchworth Heritage Foundation');
    expect(xlsx.text).toContain('£10,000.00');
    expect(xlsx.text).toContain('£4,250.50');
    expect(xlsx.text).toMatch(/Total 7 £0\.00 £4,250\.50 £10,000\.00 £0\.00 £14,250\.50 £0\.00/);
    expect(xlsx.text).toContain('Awarded 12 November 2024');
  });

  it('keeps money as numbers with a £ format, a frozen header row and an autofilter on the Lines', async () => {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsxBytes as unknown as ArrayBuffer);
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['Summary', 'Lines']);
    const lines = workbook.getWorksheet('Lines')!;
    expect(lines.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(lines.autoFilter).toBeTruthy();
    const header = (lines.getRow(1).values as unknown[]).slice(1);
    const amountColumn = header.indexOf('Amount') + 1;
    const sourceColumn = header.indexOf('Source') + 1;
    const letchworth = lines
      .getRows(2, lines.rowCount - 1)!
      .find((r) => r.getCell(sourceColumn).value === 'Letchworth Heritage Foundation')!;
    expect(letchworth.getCell(amountColumn).value).toBe(10_000);
    expect(letchworth.getCell(amountColumn).numFmt).toBe(MONEY_FORMAT);
    expect(h2.lines).toHaveLength(7);
    expect(lines.rowCount).toBe(8);
  });
});
