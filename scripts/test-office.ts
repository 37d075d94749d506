/**
 * `npm run test:office`: the office suite (vitest project `office`): the documents the app writes
 * (board report, PCC budget report, the plan as a spreadsheet) opened by LibreOffice, converted to
 * PDF and read back with pdftotext, as a reader's Word, Excel or LibreOffice would open them.
 *
 * LibreOffice and pdftotext come from Debian (`apt-get install -y libreoffice-writer libreoffice-calc
 * poppler-utils`). Without them a developer gets a loud warning and the suite is skipped; CI (CI=true)
 * fails instead. Arguments are passed on to vitest.
 */
import { findProgram, missingProgram, runVitestProject } from './suite-runner.js';

const soffice = findProgram(process.env.SOFFICE_PATH ?? '', 'soffice', 'libreoffice');
const pdftotext = findProgram('pdftotext');

if (!soffice || !pdftotext) {
  missingProgram(
    'OFFICE',
    `the office tests need LibreOffice and pdftotext; ${[!soffice && 'soffice', !pdftotext && 'pdftotext'].filter(Boolean).join(' and ')} not found.`,
    'sudo apt-get install -y --no-install-recommends libreoffice-writer libreoffice-calc poppler-utils',
    'No document the app writes was opened in LibreOffice in this run.',
  );
}
runVitestProject('office', { SOFFICE_PATH: soffice, PDFTOTEXT_PATH: pdftotext });
