/**
 * Opening a document the app wrote as a reader would: LibreOffice (Debian's, headless) converts
 * it to PDF, and poppler's pdftotext and pdfinfo read the PDF back. `npm run test:office` finds
 * the programs (SOFFICE_PATH, PDFTOTEXT_PATH) or skips the suite loudly (fails it in CI).
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const soffice = () => process.env.SOFFICE_PATH || 'soffice';
const pdftotext = () => process.env.PDFTOTEXT_PATH || 'pdftotext';
const pdfinfo = () => path.join(path.dirname(pdftotext()), 'pdfinfo');

export interface OpenedDocument {
  /** The PDF LibreOffice made of the document. */
  pdf: Buffer;
  /** Its text, page by page (pdftotext -layout; pages split at form feeds). */
  pages: string[];
  /** All the text, with runs of white space made one space, for finding a phrase. */
  text: string;
  /** The first page's size in points, as pdfinfo reports it. */
  pageSize: { width: number; height: number };
}

/**
 * The LibreOffice profile of this test run: made fresh by the first conversion (LibreOffice's
 * slowest step, several seconds; far more on its first start on a new machine) and used by the
 * ones after it, so nothing is left from another run and each conversion after the first is quick.
 * The office suite converts one document at a time (fileParallelism: false), as a profile needs.
 */
let runProfile: Promise<string> | undefined;
function profileDir(): Promise<string> {
  runProfile ??= fs.mkdtemp(path.join(os.tmpdir(), 'pp-office-profile-')).then((dir) => {
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  });
  return runProfile;
}

/** Converts `content` (a DOCX, XLSX, … named by `extension`) to PDF with LibreOffice and reads it. */
export async function openInLibreOffice(
  content: Buffer | Uint8Array,
  extension: string,
): Promise<OpenedDocument> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pp-office-'));
  try {
    const input = path.join(dir, `document.${extension}`);
    await fs.writeFile(input, content);
    await run(
      soffice(),
      [
        `-env:UserInstallation=file://${await profileDir()}`,
        '--headless',
        '--norestore',
        '--convert-to',
        'pdf',
        '--outdir',
        dir,
        input,
      ],
      { timeout: 90_000 },
    );
    const pdfPath = path.join(dir, 'document.pdf');
    const pdf = await fs.readFile(pdfPath).catch(() => {
      const calc =
        extension === 'xlsx'
          ? '; a spreadsheet needs LibreOffice Calc: apt-get install libreoffice-calc'
          : '';
      throw new Error(
        `LibreOffice did not convert the ${extension.toUpperCase()} to PDF (it could not open it${calc})`,
      );
    });
    return { pdf, ...(await readPdf(pdfPath)) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Reads a PDF the app wrote itself (pdfkit) the same way. */
export async function readPdfBytes(content: Buffer | Uint8Array): Promise<Omit<OpenedDocument, 'pdf'>> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pp-pdf-'));
  try {
    const file = path.join(dir, 'document.pdf');
    await fs.writeFile(file, content);
    return await readPdf(file);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function readPdf(file: string): Promise<Omit<OpenedDocument, 'pdf'>> {
  const { stdout } = await run(pdftotext(), ['-layout', file, '-'], { maxBuffer: 64 * 1024 * 1024 });
  const pages = stdout.split('\f');
  if (pages.length > 1 && pages[pages.length - 1]!.trim() === '') pages.pop();
  const info = (await run(pdfinfo(), [file])).stdout;
  const size = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info);
  if (!size) throw new Error(`pdfinfo gave no page size:\n${info}`);
  return {
    pages,
    text: stdout.replace(/\s+/g, ' '),
    pageSize: { width: Number(size[1]), height: Number(size[2]) },
  };
}
