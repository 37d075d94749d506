/**
 * Makes test/fixtures/word/sosafe-2024-25-libreoffice.docx: a Word file this project did not
 * write, for the Word plan importer's tests. It turns the text extracted from the real SoSafe
 * 2024/25 plan document (test/fixtures/sosafe-action-plan-2024-25.txt) back into an HTML page with
 * the document's tables, column headings as the document has them, and has LibreOffice convert
 * that page to a DOCX:
 *
 *   node --import tsx scripts/make-word-fixture.ts
 *
 * The extraction's noise is undone, nothing more: its tabs separate cells, its <p> tags separate a
 * cell's paragraphs, blank lines between rows are page breaks. A progress row the extraction
 * shifted left (its one filled cell starts "Q2" but sits in another column) is put back in the
 * last column, and a line without tabs inside a table (a cell that ran over a page) is more of the
 * last filled cell. The rest stays as the extraction has it: cells whose paragraphs it ran
 * together stay one paragraph, page-split rows stay separate rows.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = path.join(root, 'test/fixtures/sosafe-action-plan-2024-25.txt');
const TARGET = path.join(root, 'test/fixtures/word/sosafe-2024-25-libreoffice.docx');

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A cell's paragraphs: its <p> elements, or the whole cell as one. */
function paragraphs(cell: string): string[] {
  const tagged = [...cell.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((m) => m[1]!);
  return (tagged.length ? tagged : [cell]).map((p) => p.trim()).filter(Boolean);
}

type Row = string[][];

const isHeader = (line: string) => line.startsWith('Aim\t');
const isSectionHeading = (line: string) => /^\d+\.\s+\S/.test(line);

function build(text: string): string {
  const lines = text.split('\n');
  const html: string[] = [];
  let table: { rows: Row[]; width: number } | undefined;

  const endTable = () => {
    if (!table) return;
    const [header, ...rows] = table.rows;
    html.push('<table border="1">');
    if (header) {
      html.push(`<tr>${header.map((c) => `<th>${c.map(escape).join('<br>')}</th>`).join('')}</tr>`);
    }
    for (const row of rows) {
      html.push(
        `<tr>${row.map((cell) => `<td>${cell.map((p) => `<p>${escape(p)}</p>`).join('')}</td>`).join('')}</tr>`,
      );
    }
    html.push('</table>');
    table = undefined;
  };

  /** The next non-blank line after `index`. */
  const nextLine = (index: number) => lines.slice(index + 1).find((l) => l.trim() !== '') ?? '';

  lines.forEach((raw, index) => {
    const line = raw.replace(/\s+$/, '');
    if (!line.trim()) return; // a blank line: a page break or spacing
    if (line.includes('\t')) {
      const cells = line.split('\t');
      if (isHeader(line) || !table) {
        endTable();
        table = { rows: [], width: cells.length };
      }
      const row: Row = Array.from({ length: table.width }, (_, i) => paragraphs(cells[i] ?? ''));
      const filled = row.flatMap((cell, i) => (cell.length ? [i] : []));
      const last = table.width - 1;
      if (
        !isHeader(line) &&
        filled.length === 1 &&
        filled[0] !== last &&
        /^Q[1-4]\b/.test(row[filled[0]!]![0]!) &&
        table.width === 7
      ) {
        row[last] = row[filled[0]!]!;
        row[filled[0]!] = [];
      }
      table.rows.push(row);
      return;
    }
    const plain = line.replace(/\*\*/g, '').replace(/^-\s+/, '').trim();
    if (table) {
      const heading = (isSectionHeading(plain) && isHeader(nextLine(index))) || plain.length < 40;
      if (!heading) {
        const lastRow = table.rows.at(-1)!;
        const cell = [...lastRow].reverse().find((c) => c.length > 0);
        (cell ?? lastRow[0]!).push(...paragraphs(plain));
        return;
      }
      endTable();
    }
    if (html.length === 0) html.push(`<h1>${escape(plain)}</h1>`);
    else if (isSectionHeading(plain) && isHeader(nextLine(index))) html.push(`<h2>${escape(plain)}</h2>`);
    else html.push(`<p>${escape(plain)}</p>`);
  });
  endTable();
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><title>SoSafe action plan 2024/25</title></head><body>',
    ...html,
    '</body></html>',
  ].join('\n');
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-word-fixture-'));
try {
  const page = path.join(dir, 'sosafe-2024-25-libreoffice.html');
  fs.writeFileSync(page, build(fs.readFileSync(SOURCE, 'utf8')));
  execFileSync(
    process.env.SOFFICE_PATH || 'soffice',
    [
      `-env:UserInstallation=file://${path.join(dir, 'profile')}`,
      '--headless',
      '--norestore',
      '--convert-to',
      'docx:MS Word 2007 XML',
      '--outdir',
      dir,
      page,
    ],
    { stdio: 'inherit', timeout: 120_000 },
  );
  fs.mkdirSync(path.dirname(TARGET), { recursive: true });
  fs.copyFileSync(path.join(dir, 'sosafe-2024-25-libreoffice.docx'), TARGET);
  if (process.argv.includes('--keep-html')) fs.copyFileSync(page, TARGET.replace(/\.docx$/, '.html'));
  console.log(`Wrote ${path.relative(root, TARGET)}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
