/**
 * The dashboard's charts: Vega-Lite specifications rendered to SVG on the server (no browser, no
 * script), so they show without JavaScript and print. Pure: figures in, an SVG string out.
 *
 * Colour never carries the meaning alone: every bar is labelled with its number, and the statuses
 * are small multiples, one panel per status headed with its name, so a reader never has to match
 * a colour to a legend. Each chart is an image with a title and a description; the page puts the
 * same figures in a table beside it. Text from the plan (section titles, priorities, organisations)
 * goes into the SVG as data, which Vega escapes when it writes the markup.
 */
import { escapeHtml } from '../domain/text.js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { STATUS_COLUMNS, type StatusColumn } from '../domain/dashboard.js';
import { SUBMISSION_STATES, SUBMISSION_STATE_LABELS, type SubmissionState } from '../domain/cycles.js';
import { SUMMARY_LABELS } from './board-report-words.js';

/** The system font stack the pages use (no GDS Transport: this is not a GOV.UK service). */
const FONT = 'system-ui, -apple-system, BlinkMacSystemFont, Segoe UI, Roboto, Helvetica, Arial, sans-serif';
const TEXT = '#0b0c0c';
const SECONDARY_TEXT = '#505a5f';
const AXIS_LABEL_FONT_SIZE = 14;
/** The height of an axis label's line: Vega's, the font size and 2 px. */
const AXIS_LABEL_LINE = AXIS_LABEL_FONT_SIZE + 2;

/**
 * Text widths for Vega's layout. On a server Vega has no canvas to measure text and guesses 0.8 of
 * the font size for every character, about half again too wide for a proportional font: labels
 * were cut short at 280 px ("1. Divert young people f…") where the browser would have drawn them
 * in 170. Vega takes a measure of our own (its documented `textMetrics.width` hook): Helvetica's
 * advance widths, in thousandths of the font size, with a tenth more for the wider fonts a reader's
 * system-ui may be (DejaVu Sans, Segoe UI) and a twentieth more for bold, so a label is never
 * longer than the room Vega gives it.
 */
const HELVETICA_WIDTHS: Record<string, number> = (() => {
  const widths: Record<string, number> = {};
  const groups: [string, number][] = [
    ["'", 191],
    ['ijl|', 222],
    [' !,./:;I[\\]ft', 278],
    ['"', 355],
    ['()-`r{}', 333],
    ['*', 389],
    ['^', 469],
    ['ckszvxy', 500],
    ['J', 500],
    ['0123456789#$?_abdeghnopqu£', 556],
    ['+<=>~', 584],
    ['FTZ', 611],
    ['&ABEKPSVXY', 667],
    ['CDHNRUw', 722],
    ['GOQ', 778],
    ['Mm', 833],
    ['%', 889],
    ['W', 944],
    ['@', 1015],
  ];
  for (const [chars, width] of groups) for (const c of chars) widths[c] = width;
  return widths;
})();

export function textWidth(text: string, fontSize: number, bold = false): number {
  let thousandths = 0;
  for (const c of text) thousandths += HELVETICA_WIDTHS[c] ?? (c === '…' ? 1000 : 600);
  return (thousandths / 1000) * fontSize * 1.1 * (bold ? 1.05 : 1);
}

interface VegaTextItem {
  fontSize?: number;
  fontWeight?: string | number;
}
// vega-scenegraph's textMetrics, exported by vega but missing from its typings.
const { textMetrics } = vega as unknown as {
  textMetrics: { width: (item: VegaTextItem, text: unknown) => number };
};
textMetrics.width = (item, text) =>
  textWidth(
    text == null ? '' : String(text).trim(),
    item.fontSize ?? 11,
    item.fontWeight === 'bold' || Number(item.fontWeight) >= 600,
  );

/**
 * A label broken into lines of at most `width` characters at spaces (a longer word keeps its own
 * line), and at most `lines` lines, the last ending "…" if the label is longer: for axis labels,
 * which Vega draws line by line from `\n` (see `lineBreakLabels`).
 */
export function wrapLabel(text: string, width = 34, lines = 4): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  if (out.length <= lines) return out.join('\n');
  const kept = out.slice(0, lines);
  kept[lines - 1] = `${kept[lines - 1]!.slice(0, width - 1).trimEnd()}…`;
  return kept.join('\n');
}

/**
 * An axis's labels drawn a line per `\n` of the label (see wrapLabel), centred on their row: Vega
 * starts a label's first line at the row's middle, so a label of n lines moves up by n − 1 half
 * lines (a line is the font size and 2 px).
 */
export const lineBreakLabels = {
  labelExpr: "split(datum.label, '\\n')",
  encoding: {
    labels: {
      dy: { value: { expr: `-(length(split(datum.label, '\\n')) - 1) * ${AXIS_LABEL_LINE / 2}` } },
    },
  },
} as const;

/** GOV.UK colours, all at least 3:1 against white (WCAG 1.4.11, graphical objects). */
export const STATUS_COLOURS: Record<StatusColumn, string> = {
  not_started: '#505a5f',
  on_track: '#00703c',
  at_risk: '#b58840',
  off_track: '#d4351c',
  complete: '#1d70b8',
  none: '#6f777b',
};

const SUBMISSION_COLOURS: Record<SubmissionState, string> = {
  not_requested: '#505a5f',
  requested: '#1d70b8',
  draft: '#b58840',
  submitted: '#003078',
  accepted: '#00703c',
  returned: '#d4351c',
};

export const CONFIG = {
  font: FONT,
  background: '#ffffff',
  // Our own title and description on the root element say what the chart is; Vega's own ARIA
  // roles on every mark would only repeat the table beside it, mark by mark.
  aria: false,
  view: { stroke: null },
  axis: {
    labelFont: FONT,
    labelFontSize: AXIS_LABEL_FONT_SIZE,
    labelColor: TEXT,
    titleColor: TEXT,
    domainColor: SECONDARY_TEXT,
    tickColor: SECONDARY_TEXT,
    gridColor: '#dddddd',
    labelLimit: 280,
  },
  header: { labelFont: FONT, labelFontSize: 14, labelColor: TEXT, labelFontWeight: 'bold' as const },
  text: { font: FONT, fontSize: 14, fill: TEXT },
};

export interface ChartText {
  /** A DOM id prefix unique in the page, for the title and description. */
  id: string;
  /** What the chart shows, e.g. "Statuses by section, Q3 2024/25". */
  title: string;
  /** The figures in words, read by screen readers in place of the picture. */
  description: string;
}

/** Vega writes the font on every text; said once on the root it is the same (SVG's font-family is inherited). */
const FONT_ATTRIBUTE = ` font-family="${FONT}"`;

/**
 * The root <svg> made an image with our title and description; it scales down with the page. The
 * chart's font is given once, on the root, rather than on each of its texts (a fifth of a chart's
 * bytes); a text in another font keeps its own.
 */
export function labelSvg(svg: string, text: ChartText): string {
  const id = text.id.replace(/[^\w-]/g, '');
  // Vega's own roles and labels, mark by mark, would make the image's parts items of their own;
  // the image is one picture, its figures are in the table beside it.
  const plain = svg.replace(/\s(?:role|aria-[a-z]+)="[^"]*"/g, '').replaceAll(FONT_ATTRIBUTE, '');
  const open = /^<svg\b[^>]*>/.exec(plain);
  if (!open) throw new Error('Vega wrote no <svg> element');
  const root = open[0]
    .replace(/\sclass="[^"]*"/, '')
    .replace(
      /^<svg\b/,
      `<svg class="app-chart__svg" role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false"${FONT_ATTRIBUTE}`,
    );
  return (
    root +
    `<title id="${id}-title">${escapeHtml(text.title)}</title>` +
    `<desc id="${id}-desc">${escapeHtml(text.description)}</desc>` +
    plain.slice(open[0].length)
  );
}

/**
 * Drawn charts by their spec (which holds their data): a chart changes only when its figures do,
 * and drawing one is the dashboard's costliest step. Oldest first out beyond RENDERED_LIMIT.
 */
const rendered = new Map<string, Promise<string>>();
const RENDERED_LIMIT = 500;

export function render(spec: TopLevelSpec): Promise<string> {
  const key = JSON.stringify(spec);
  const known = rendered.get(key);
  if (known) return known;
  const svg = draw(spec);
  rendered.set(key, svg);
  // A failed drawing is not kept; the next request tries again.
  svg.catch(() => rendered.delete(key));
  if (rendered.size > RENDERED_LIMIT) rendered.delete(rendered.keys().next().value!);
  return svg;
}

async function draw(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * The two layers of a horizontal bar chart whose bars are labelled with their numbers: a bar a row
 * (y: `field`, in `sort` order; x: `n`, with `headroom` above the largest for the labels), then the
 * numbers at the bars' ends. `color` colours the bars by a field; `markColour` gives them one colour.
 */
export function labelledBarLayers(options: {
  field: string;
  sort: readonly string[];
  max: number;
  headroom: number;
  labelLimit?: number;
  /** The labels hold `\n` where their lines break (wrapLabel). */
  multiLine?: boolean;
  color?: Record<string, unknown>;
  markColour?: string;
  format?: string;
}) {
  const y = {
    field: options.field,
    type: 'nominal' as const,
    title: null,
    sort: [...options.sort],
    ...(options.labelLimit || options.multiLine
      ? {
          axis: {
            ...(options.labelLimit ? { labelLimit: options.labelLimit } : {}),
            ...(options.multiLine ? lineBreakLabels : {}),
          },
        }
      : {}),
  };
  const x = {
    field: 'n',
    type: 'quantitative' as const,
    title: null,
    scale: { domain: [0, options.max * options.headroom] },
    axis: null,
  };
  return [
    {
      mark: {
        type: 'bar' as const,
        height: { band: 0.7 },
        ...(options.markColour ? { color: options.markColour } : {}),
      },
      encoding: { y, x, ...(options.color ? { color: options.color } : {}) },
    },
    {
      mark: { type: 'text' as const, align: 'left' as const, baseline: 'middle' as const, dx: 4 },
      encoding: {
        y,
        x,
        text: {
          field: 'n',
          type: 'quantitative' as const,
          ...(options.format ? { format: options.format } : {}),
        },
      },
    },
  ];
}

/** The panels' headings: "No update" for short; the table beside the chart says it in full. */
const CHART_STATUS_LABELS: Record<StatusColumn, string> = { ...SUMMARY_LABELS, none: 'No update' };

export interface StatusChartRow {
  label: string;
  counts: Record<StatusColumn, number>;
}

/**
 * One panel per status, each with a bar per row (section, priority, organisation) labelled with
 * its number.
 */
export async function statusChartSvg(rows: readonly StatusChartRow[], text: ChartText): Promise<string> {
  const labels = rows.map((r) => wrapLabel(r.label));
  const lines = Math.max(1, ...labels.map((l) => l.split('\n').length));
  const values = rows.flatMap((row, index) =>
    STATUS_COLUMNS.map((c) => ({
      label: labels[index]!,
      status: CHART_STATUS_LABELS[c],
      key: c,
      n: row.counts[c],
    })),
  );
  const max = Math.max(1, ...values.map((v) => v.n));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    config: CONFIG,
    facet: {
      column: {
        field: 'status',
        type: 'nominal',
        title: null,
        sort: STATUS_COLUMNS.map((c) => CHART_STATUS_LABELS[c]),
        header: { labelLimit: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' },
      },
    },
    spacing: 12,
    spec: {
      width: 100,
      // Room for the longest label's lines and a gap between rows.
      height: { step: Math.max(24, lines * AXIS_LABEL_LINE + 8) },
      layer: labelledBarLayers({
        field: 'label',
        sort: labels,
        max,
        headroom: 1.25,
        labelLimit: 280,
        multiLine: true,
        color: {
          field: 'key',
          type: 'nominal',
          legend: null,
          scale: { domain: [...STATUS_COLUMNS], range: STATUS_COLUMNS.map((c) => STATUS_COLOURS[c]) },
        },
      }),
    },
  };
  return labelSvg(await render(spec), text);
}

/** The open quarter's actions by where their update stands, each bar labelled with its number. */
export async function submissionChartSvg(
  counts: Record<SubmissionState, number>,
  text: ChartText,
): Promise<string> {
  const values = SUBMISSION_STATES.map((s) => ({ state: SUBMISSION_STATE_LABELS[s], key: s, n: counts[s] }));
  const max = Math.max(1, ...values.map((v) => v.n));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    config: CONFIG,
    width: 420,
    height: { step: 28 },
    layer: labelledBarLayers({
      field: 'state',
      sort: SUBMISSION_STATES.map((st) => SUBMISSION_STATE_LABELS[st]),
      max,
      headroom: 1.15,
      color: {
        field: 'key',
        type: 'nominal',
        legend: null,
        scale: {
          domain: [...SUBMISSION_STATES],
          range: SUBMISSION_STATES.map((st) => SUBMISSION_COLOURS[st]),
        },
      },
    }),
  };
  return labelSvg(await render(spec), text);
}
