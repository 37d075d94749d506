/**
 * Nunjucks for the pages: GOV.UK Frontend's templates and ours, autoescaped, with the few filters
 * plan text needs. Plan text is always escaped first; only our own markup (<abbr>, <p>, <br>) is added.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Negotiator } from '@fastify/accept-negotiator';
import type { FastifyReply } from 'fastify';
import nunjucks from 'nunjucks';
import {
  isSubmissionState,
  SUBMISSION_STATE_LABELS,
  SUBMISSION_STATE_TAG_CLASSES,
} from '../domain/cycles.js';
import { addedLabel } from '../domain/numbering.js';
import { escapeHtml } from '../domain/text.js';
import { quarterLabel, quarterMonths, isQuarter } from '../domain/quarters.js';
import { STATUS_LABELS, STATUS_TAG_CLASSES, isStatus } from '../domain/status.js';

export const viewsDir = fileURLToPath(new URL('./views', import.meta.url));
export const govukDir = path.join(
  path.dirname(fileURLToPath(import.meta.resolve('govuk-frontend/package.json'))),
  'dist',
);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Marks the partnership's abbreviations in plan text with <abbr title>. The text is escaped
 * first, so nothing a user typed can become markup.
 */
export function makeAbbreviator(
  glossary: readonly { term: string; meaning: string }[],
): (text: string) => string {
  const terms = [...glossary]
    .filter((g) => /^[\w&]+$/.test(g.term))
    .sort((a, b) => b.term.length - a.term.length);
  if (terms.length === 0) return escapeHtml;
  const meanings = new Map(terms.map((g) => [g.term, g.meaning]));
  const pattern = new RegExp(`\\b(${terms.map((g) => escapeRegExp(g.term)).join('|')})\\b`, 'g');
  return (text: string) =>
    escapeHtml(text).replace(
      pattern,
      (term) => `<abbr title="${escapeHtml(meanings.get(term) ?? term)}">${term}</abbr>`,
    );
}

// Made once: toLocaleString makes a formatter on every call, which pages with many dates feel.
const DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const DATE = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

export function formatDateTime(value: Date | string | null | undefined): string {
  if (!value) return '';
  return formatWith(DATE_TIME, value instanceof Date ? value : new Date(value));
}

export function formatDate(value: Date | string | null | undefined): string {
  if (!value) return '';
  return formatWith(DATE, value instanceof Date ? value : new Date(`${value.slice(0, 10)}T12:00:00Z`));
}

/** As toLocaleString words a date that is not one (format would throw). */
function formatWith(format: Intl.DateTimeFormat, date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : format.format(date);
}

export function configureNunjucks(env: nunjucks.Environment): void {
  env.addFilter('statusLabel', (status: unknown) =>
    isStatus(status) ? STATUS_LABELS[status] : 'No status given',
  );
  env.addFilter('statusClass', (status: unknown) =>
    isStatus(status) ? STATUS_TAG_CLASSES[status] : 'govuk-tag--grey',
  );
  env.addFilter('submissionStateLabel', (state: unknown) =>
    isSubmissionState(state) ? SUBMISSION_STATE_LABELS[state] : '',
  );
  env.addFilter('submissionStateClass', (state: unknown) =>
    isSubmissionState(state) ? SUBMISSION_STATE_TAG_CLASSES[state] : 'govuk-tag--grey',
  );
  env.addFilter('quarterLabel', (q: unknown) => (isQuarter(q) ? quarterLabel(q) : 'No quarter'));
  env.addFilter('quarterMonths', (q: unknown) => (isQuarter(q) ? quarterMonths(q) : ''));
  // A plan has a few dates "added" and shows them on every row: each is worded once.
  const addedLabels = new Map<string, string>();
  env.addFilter('addedLabel', (d: string | null) => {
    if (!d) return '';
    let label = addedLabels.get(d);
    if (label === undefined) {
      label = addedLabel(d) ?? '';
      if (addedLabels.size < 1000) addedLabels.set(d, label);
    }
    return label;
  });
  env.addFilter('dateTime', formatDateTime);
  env.addFilter('date', formatDate);
  env.addFilter('yearSlug', (year: string) => year.replace('/', '-'));
}

/**
 * A part of a page made once and kept (a kept read's tables and charts), held as its UTF-8 bytes,
 * encoded once. In a template `{{ part }}` prints a marker; reply.page sends the page's bytes with
 * the part's bytes in the marker's place (withKeptParts). So a large kept part is neither copied
 * into each page's text nor measured and encoded again for each request: the dashboard's 350 KB
 * of tables and charts, joined into its text, measured and encoded for every answer, were half of
 * the server's time on that page (docs/benchmarks.md).
 * A part with forms is rendered with `csrfToken: CSRF_HOLE`: each answer fills the holes with its
 * own token. Markers and holes hold this process's random token, which escaped text cannot forge
 * (a marker is an HTML comment) and no page shows.
 */
const KEPT_TOKEN = `kept-${crypto.randomUUID()}`;
let keptParts = 0;

/** Where a kept part holds the request's CSRF token: give it to the part's template as `csrfToken`. */
export const CSRF_HOLE = `${KEPT_TOKEN}-csrf`;
const CSRF_HOLE_BYTES = Buffer.from(CSRF_HOLE);

export class KeptHtml extends nunjucks.runtime.SafeString {
  /** The part's bytes, split at each CSRF hole. */
  readonly pieces: readonly Buffer[];
  /**
   * Each piece's CRC-32, and the operator that moves a CRC over the piece's length (crc32Combine),
   * made the first time a page with the part is sent gzipped.
   */
  #crcs: readonly { crc: number; shift: number }[] | undefined;
  #deflated: { tokenBytes: number; pieces: readonly Buffer[] } | undefined;
  constructor(html: string) {
    super(`<!--${KEPT_TOKEN}-${++keptParts}-->`);
    const bytes = Buffer.from(html, 'utf8');
    const pieces: Buffer[] = [];
    let from = 0;
    for (let at = bytes.indexOf(CSRF_HOLE_BYTES); at !== -1; at = bytes.indexOf(CSRF_HOLE_BYTES, from)) {
      pieces.push(bytes.subarray(from, at));
      from = at + CSRF_HOLE_BYTES.length;
    }
    pieces.push(bytes.subarray(from));
    this.pieces = pieces;
  }

  /** The part as text, its holes filled with a CSRF token (a page rendered whole; tests). */
  html(csrfToken = ''): string {
    return this.pieces.map((piece) => piece.toString('utf8')).join(csrfToken);
  }

  /**
   * Each piece compressed (gzipPage), made the first time a page with the part is sent gzipped with
   * CSRF tokens of this many bytes (every token is as long as the last, in practice).
   */
  deflated(tokenBytes: number): readonly Buffer[] {
    const key = this.pieces.length > 1 ? tokenBytes : 0;
    if (this.#deflated?.tokenBytes !== key) {
      this.#deflated = { tokenBytes: key, pieces: deflatePieces(this.pieces, key) };
    }
    return this.#deflated.pieces;
  }

  /** A CRC-32 so far, carried over the piece's bytes: the same as zlib.crc32(piece, crc). */
  crcAfter(crc: number, piece: number): number {
    this.#crcs ??= this.pieces.map((bytes) => ({ crc: zlib.crc32(bytes), shift: crc32Shift(bytes.length) }));
    const { crc: own, shift } = this.#crcs[piece]!;
    return crc32Combine(crc, own, shift);
  }
}

/** The kept parts among a page's data (its own values: where the routes put them). */
export function keptPartsOf(data: Record<string, unknown>): KeptHtml[] {
  return Object.values(data).filter((value): value is KeptHtml => value instanceof KeptHtml);
}

/** What the page header shows (views/partials/header.njk), and nothing else of a page's data. */
function headerContext(data: Record<string, unknown>) {
  const partnership = data.partnership as { id?: unknown; name?: unknown; slug?: unknown } | undefined;
  const member = data.member as { partnershipId?: unknown; role?: unknown } | undefined;
  const user = data.user as { name?: unknown; partnerships?: unknown } | undefined;
  return {
    serviceName: data.serviceName,
    base: data.base,
    nav: data.nav,
    partnership: partnership && { id: partnership.id, name: partnership.name, slug: partnership.slug },
    member: member && { partnershipId: member.partnershipId, role: member.role },
    user: user && { name: user.name, partnerships: user.partnerships },
  };
}

/**
 * The page header, made once for each set of what it shows and kept (a KeptHtml with a hole for
 * each answer's CSRF token): `header(data)` gives it for a page's data. Its two GOV.UK macros,
 * rendered for every page, were a fifth of the server's time on an aim page (docs/benchmarks.md).
 * It is rendered from headerContext alone, so it cannot show a field that its key does not hold;
 * the last `maxKept` headers used are kept. A page without a CSRF token gets none (undefined):
 * the layout then renders the header itself.
 */
export function keptHeaders(
  render: (template: string, data: Record<string, unknown>) => Promise<string>,
  maxKept = 1000,
): (data: Record<string, unknown>) => Promise<KeptHtml> | undefined {
  const kept = new Map<string, Promise<KeptHtml>>();
  return (data) => {
    if (typeof data.csrfToken !== 'string') return undefined;
    const context = headerContext(data);
    const key = JSON.stringify(context);
    let header = kept.get(key);
    if (header) {
      kept.delete(key);
    } else {
      header = render('partials/header.njk', { ...context, csrfToken: CSRF_HOLE }).then(
        (html) => new KeptHtml(html),
      );
      header.catch(() => kept.delete(key));
    }
    kept.set(key, header);
    if (kept.size > maxKept) kept.delete(kept.keys().next().value!);
    return header;
  };
}

/** A run of a page's bytes; a kept part's piece brings its compressed form too. */
interface Segment {
  readonly bytes: Buffer;
  readonly part?: KeptHtml;
  readonly piece?: number;
}

/**
 * A page's runs of bytes, in order: its rendered text, with each kept part's marker replaced by the
 * part's pieces, their holes filled with the request's CSRF token.
 */
function segmentsOf(html: string, parts: readonly KeptHtml[], csrfToken?: string): Segment[] {
  const found: { at: number; part: KeptHtml }[] = [];
  for (const part of parts) {
    for (let at = html.indexOf(part.val); at !== -1; at = html.indexOf(part.val, at + part.val.length)) {
      found.push({ at, part });
    }
  }
  found.sort((a, b) => a.at - b.at);
  const segments: Segment[] = [];
  let token: Buffer | undefined;
  let from = 0;
  for (const { at, part } of found) {
    segments.push(
      { bytes: Buffer.from(html.slice(from, at), 'utf8') },
      { bytes: part.pieces[0]!, part, piece: 0 },
    );
    for (let piece = 1; piece < part.pieces.length; piece++) {
      if (csrfToken === undefined)
        throw new Error('A kept part holds a form, but the page has no CSRF token');
      token ??= Buffer.from(csrfToken, 'utf8');
      segments.push({ bytes: token }, { bytes: part.pieces[piece]!, part, piece });
    }
    from = at + part.val.length;
  }
  segments.push({ bytes: Buffer.from(html.slice(from), 'utf8') });
  return segments;
}

/**
 * A page's bytes: its rendered text with each kept part's marker replaced by the part's bytes,
 * their holes filled with the request's CSRF token.
 */
export function withKeptParts(html: string, parts: readonly KeptHtml[], csrfToken?: string): Buffer {
  return Buffer.concat(segmentsOf(html, parts, csrfToken).map((segment) => segment.bytes));
}

/*
 * Pages go gzipped to a browser that accepts it (every browser does): the dashboard's 267 KB are
 * 14 KB, and sending the bytes was the floor under its time (docs/benchmarks.md). A page's kept
 * parts are compressed once, not for every answer: a gzip body is a header, raw DEFLATE data, and a
 * trailer with the text's CRC-32 and length (RFC 1952); DEFLATE data may be made of runs compressed
 * apart, each ended with a sync flush, which leaves it byte-aligned and outside a final block
 * (RFC 1951), then one empty final block. A run points back only into bytes its compressor was
 * given: its own, or for a kept part's later pieces the part before them (deflatePieces). So each
 * answer compresses its own text around the parts (a few KB), sends each CSRF token in a block of
 * its own, and joins them with the parts' compressed pieces (the trailer's CRC combined: crc32Combine).
 * Every CSRF token is new for each answer (@fastify/csrf-protection salts each), no token is ever
 * compressed against other text, and the session's cookie is SameSite=Lax, so compression gives no
 * cross-site page a secret to guess at by sizes (BREACH).
 */
/** An answer's own runs: compressed fast (level 1), as they are compressed for every answer. */
const DEFLATE_RUN = { level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH } as const;
/** A kept part's pieces: compressed once, as well as zlib's default does. */
const DEFLATE_KEPT = { finishFlush: zlib.constants.Z_SYNC_FLUSH } as const;
/**
 * A run this short (a CSRF token) goes as a stored block: its bytes as they are, after a five-byte
 * header (RFC 1951 3.2.4): not worth a compressor's set-up.
 */
const STORED_UP_TO = 256;
/** gzip's header: DEFLATE, no name or time, from an unknown system. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final block, as zlib ends a stream with nothing left to compress. */
const FINAL_BLOCK = zlib.deflateRawSync(Buffer.alloc(0));

/** How far back DEFLATE may point (RFC 1951 2.5: 32 KB). */
const WINDOW = 32 * 1024;

/**
 * A kept part's pieces compressed, for answers whose CSRF tokens are `tokenBytes` long. A piece
 * after a hole may point back into the pieces before it (the plan page's 41 forms are one part:
 * compressed each on its own they were three times the size): it is compressed with the part so far
 * as DEFLATE's preset dictionary, each hole in it as that many 0xFF bytes. UTF-8 has no 0xFF byte, so
 * no match takes in a hole, whichever token fills it, and the distances hold as the holes are as
 * long as the tokens.
 */
function deflatePieces(pieces: readonly Buffer[], tokenBytes: number): Buffer[] {
  const hole = Buffer.alloc(tokenBytes, 0xff);
  let before = Buffer.alloc(0);
  return pieces.map((piece, index) => {
    const deflated = !piece.length
      ? Buffer.alloc(0)
      : zlib.deflateRawSync(piece, before.length ? { ...DEFLATE_KEPT, dictionary: before } : DEFLATE_KEPT);
    if (index < pieces.length - 1) before = Buffer.concat([before, piece, hole]).subarray(-WINDOW);
    return deflated;
  });
}

/*
 * CRC-32 combined (zlib's crc32_combine_gen and crc32_combine_op, which Node does not expose): the
 * CRC of A then B from the CRCs of A and of B and an operator made once from B's length. A kept
 * piece's CRC is made once, so an answer's CRC costs the answer's own text, not the whole page.
 * Polynomials over GF(2), reflected, as zlib keeps them.
 */
const CRC_POLY = 0xedb88320;

/** a(x)·b(x) modulo the CRC's polynomial. */
function multModP(a: number, b: number): number {
  if (a === 0) return 0;
  let p = 0;
  for (let m = 0x80000000; ; m >>>= 1) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    b = b & 1 ? (b >>> 1) ^ CRC_POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0…31. */
const X2N: readonly number[] = (() => {
  const table = [0x40000000]; // x^1
  for (let k = 1; k < 32; k++) table.push(multModP(table[k - 1]!, table[k - 1]!));
  return table;
})();

/** The operator for `length` bytes: x^(8·length) modulo the polynomial. */
export function crc32Shift(length: number): number {
  let p = 0x80000000; // x^0
  for (let n = length, k = 3; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2) p = multModP(X2N[k & 31]!, p);
  }
  return p;
}

/** The CRC-32 of A then B: crcA, crcB, and crc32Shift(B's length). */
export function crc32Combine(crcA: number, crcB: number, shift: number): number {
  return (multModP(shift, crcA) ^ crcB) >>> 0;
}

/** A run of an answer's own bytes as DEFLATE data, ending byte-aligned outside a final block. */
function deflateRun(bytes: Buffer): Buffer {
  if (bytes.length > STORED_UP_TO) return zlib.deflateRawSync(bytes, DEFLATE_RUN);
  const stored = Buffer.alloc(5 + bytes.length);
  // BFINAL 0, BTYPE 00 (stored), the rest of the byte skipped; LEN and its ones' complement.
  stored.writeUInt16LE(bytes.length, 1);
  stored.writeUInt16LE(~bytes.length & 0xffff, 3);
  bytes.copy(stored, 5);
  return stored;
}

/**
 * The page as one gzip body: its runs (segmentsOf) each compressed (a kept piece's, once), then the
 * trailer.
 */
function gzipPage(html: string, parts: readonly KeptHtml[], csrfToken?: string): Buffer {
  const segments = segmentsOf(html, parts, csrfToken);
  const tokenBytes = csrfToken === undefined ? 0 : Buffer.byteLength(csrfToken);
  const chunks: Buffer[] = [GZIP_HEADER];
  let crc = 0;
  let length = 0;
  for (const { bytes, part, piece } of segments) {
    if (!bytes.length) continue;
    if (part) {
      chunks.push(part.deflated(tokenBytes)[piece!]!);
      crc = part.crcAfter(crc, piece!);
    } else {
      chunks.push(deflateRun(bytes));
      crc = zlib.crc32(bytes, crc);
    }
    length += bytes.length;
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  chunks.push(FINAL_BLOCK, trailer);
  return Buffer.concat(chunks);
}

/** q-values honoured: `gzip;q=0` refuses it. No cache: the header is the client's to vary. */
const encodings = new Negotiator({ supportedValues: ['gzip', 'identity'] });

/** Whether the request's browser takes a gzipped page (Accept-Encoding). */
export function acceptsGzip(accept: string | undefined): boolean {
  return accept !== undefined && encodings.negotiate(accept) === 'gzip';
}

/**
 * Renders a page and sends it: gzipped when the browser accepts it, with the parts' own bytes (or
 * their compressed bytes) in place (reply.page, and the pages residents read without a session).
 */
export async function sendView(
  reply: FastifyReply,
  template: string,
  data: Record<string, unknown>,
): Promise<FastifyReply> {
  const parts = keptPartsOf(data);
  const vary = reply.getHeader('vary');
  reply.header('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
  const gzip = acceptsGzip(reply.request.headers['accept-encoding']);
  if (!parts.length && !gzip) return reply.view(template, data);
  const csrfToken = typeof data.csrfToken === 'string' ? data.csrfToken : undefined;
  const html = await reply.viewAsync(template, data);
  if (!gzip) return reply.send(withKeptParts(html, parts, csrfToken));
  return reply.header('content-encoding', 'gzip').send(gzipPage(html, parts, csrfToken));
}

/**
 * The data with each kept part as its text (its holes filled with the data's CSRF token), for
 * rendering the page whole as one string.
 */
export function withKeptPartsInline(data: Record<string, unknown>): Record<string, unknown> {
  const csrfToken = typeof data.csrfToken === 'string' ? data.csrfToken : '';
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [
      key,
      value instanceof KeptHtml ? new nunjucks.runtime.SafeString(value.html(csrfToken)) : value,
    ]),
  );
}

/**
 * Formatting of plan text for one partnership, given to every page as `fmt`:
 * {{ fmt.abbr(text) }}, {{ fmt.paras(text) }}, {{ fmt.items(list) }}. Each escapes first.
 */
export function textHelpers(glossary: readonly { term: string; meaning: string }[]): TextHelpers {
  // One set per glossary read: the pages of a cached plan share its glossary (services/read-cache.ts),
  // so they share one compiled abbreviation pattern (a new RegExp each request starts slow again).
  let helpers = helpersByGlossary.get(glossary);
  if (!helpers) {
    helpers = makeTextHelpers(glossary);
    helpersByGlossary.set(glossary, helpers);
  }
  return helpers;
}

const helpersByGlossary = new WeakMap<object, TextHelpers>();

function makeTextHelpers(glossary: readonly { term: string; meaning: string }[]) {
  const abbr = makeAbbreviator(glossary);
  const safe = (html: string) => new nunjucks.runtime.SafeString(html);
  return {
    abbr: (text: string | null | undefined) => safe(abbr(text ?? '')),
    /** Paragraphs separated by blank lines; single line breaks kept. */
    paras: (text: string | null | undefined, cls = 'govuk-body') =>
      safe(
        (text ?? '')
          .split(/\n\s*\n/)
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => `<p class="${cls}">${abbr(p).replace(/\n/g, '<br>')}</p>`)
          .join(''),
      ),
    /** One item a line, as a bulleted list; a single item as a paragraph. */
    items: (items: string | readonly string[] | null | undefined) => {
      const list = (typeof items === 'string' ? items.split('\n') : (items ?? []))
        .map((i) => i.trim())
        .filter(Boolean);
      if (list.length === 0) return safe('');
      if (list.length === 1) return safe(`<p class="govuk-body">${abbr(list[0]!)}</p>`);
      return safe(
        `<ul class="govuk-list govuk-list--bullet">${list.map((i) => `<li>${abbr(i)}</li>`).join('')}</ul>`,
      );
    },
  };
}
export type TextHelpers = ReturnType<typeof makeTextHelpers>;
