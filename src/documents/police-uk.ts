/**
 * police.uk monthly CSV files (data.police.uk/data): "street" (street-level crime and ASB) and
 * "outcomes". Pure: a header row in, the file's kind out; a row's fields in, a typed record out.
 * A file is recognised only by its exact header row, so a changed format is refused, not guessed.
 */

export const STREET_HEADERS = [
  'Crime ID',
  'Month',
  'Reported by',
  'Falls within',
  'Longitude',
  'Latitude',
  'Location',
  'LSOA code',
  'LSOA name',
  'Crime type',
  'Last outcome category',
  'Context',
] as const;

export const OUTCOMES_HEADERS = [
  'Crime ID',
  'Month',
  'Reported by',
  'Falls within',
  'Longitude',
  'Latitude',
  'Location',
  'LSOA code',
  'LSOA name',
  'Outcome type',
] as const;

export type PoliceUkKind = 'street' | 'outcomes';

/** A file or row that cannot be imported; the message names the line where there is one. */
export class PoliceUkFileError extends Error {}

interface CommonRecord {
  line: number;
  crimeId: string | null;
  month: string;
  reportedBy: string;
  fallsWithin: string;
  longitude: number | null;
  latitude: number | null;
  location: string;
  lsoaCode: string | null;
  lsoaName: string | null;
}

export interface StreetRecord extends CommonRecord {
  crimeType: string;
  lastOutcomeCategory: string | null;
  context: string | null;
}

export interface OutcomeRecord extends CommonRecord {
  crimeId: string;
  outcomeType: string;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export function isPoliceUkMonth(value: string): boolean {
  return MONTH.test(value);
}

function sameHeaders(fields: readonly string[], expected: readonly string[]): boolean {
  return fields.length === expected.length && fields.every((f, i) => f === expected[i]);
}

/** The file's kind from its header row; anything but the exact police.uk headers is refused. */
export function recognisePoliceUkHeader(fields: readonly string[]): PoliceUkKind {
  if (sameHeaders(fields, STREET_HEADERS)) return 'street';
  if (sameHeaders(fields, OUTCOMES_HEADERS)) return 'outcomes';
  throw new PoliceUkFileError(
    `line 1: the headers are not those of a police.uk street or outcomes file. Found: ${fields.join(',')}. ` +
      `A street file has: ${STREET_HEADERS.join(',')}. An outcomes file has: ${OUTCOMES_HEADERS.join(',')}.`,
  );
}

function optional(value: string): string | null {
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function required(value: string, header: string, line: number): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new PoliceUkFileError(`line ${line}: "${header}" is empty.`);
  return trimmed;
}

function coordinate(value: string, header: string, line: number, limit: number): number | null {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  if (!Number.isFinite(n) || Math.abs(n) > limit) {
    throw new PoliceUkFileError(`line ${line}: "${header}" is not a coordinate: ${JSON.stringify(value)}.`);
  }
  return n;
}

function common(fields: readonly string[], line: number): CommonRecord {
  const [crimeId, month, reportedBy, fallsWithin, longitude, latitude, location, lsoaCode, lsoaName] =
    fields as [string, string, string, string, string, string, string, string, string];
  const monthValue = month.trim();
  if (!MONTH.test(monthValue)) {
    throw new PoliceUkFileError(`line ${line}: "Month" must be YYYY-MM, not ${JSON.stringify(month)}.`);
  }
  const lon = coordinate(longitude, 'Longitude', line, 180);
  const lat = coordinate(latitude, 'Latitude', line, 90);
  if ((lon === null) !== (lat === null)) {
    throw new PoliceUkFileError(`line ${line}: "Longitude" and "Latitude" must both be given or both empty.`);
  }
  return {
    line,
    crimeId: optional(crimeId),
    month: monthValue,
    reportedBy: required(reportedBy, 'Reported by', line),
    fallsWithin: required(fallsWithin, 'Falls within', line),
    longitude: lon,
    latitude: lat,
    location: location.trim(),
    lsoaCode: optional(lsoaCode),
    lsoaName: optional(lsoaName),
  };
}

function checkFieldCount(fields: readonly string[], expected: number, line: number): void {
  if (fields.length !== expected) {
    throw new PoliceUkFileError(
      `line ${line}: expected ${expected} fields, found ${fields.length}` +
        (fields.length < expected ? ' (is the file cut short?).' : '.'),
    );
  }
}

/** One data row of a street file; `line` is its line number in the file (the header is line 1). */
export function parseStreetRow(fields: readonly string[], line: number): StreetRecord {
  checkFieldCount(fields, STREET_HEADERS.length, line);
  return {
    ...common(fields, line),
    crimeType: required(fields[9]!, 'Crime type', line),
    lastOutcomeCategory: optional(fields[10]!),
    context: optional(fields[11]!),
  };
}

/** One data row of an outcomes file; an outcome always names its crime. */
export function parseOutcomeRow(fields: readonly string[], line: number): OutcomeRecord {
  checkFieldCount(fields, OUTCOMES_HEADERS.length, line);
  const base = common(fields, line);
  return {
    ...base,
    crimeId: required(fields[0]!, 'Crime ID', line),
    outcomeType: required(fields[9]!, 'Outcome type', line),
  };
}
