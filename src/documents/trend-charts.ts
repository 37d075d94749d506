/**
 * The police.uk trends' charts: Vega-Lite drawn to SVG on the server, as the dashboard's are
 * (documents/charts.ts). A trend is two panels side by side, the area's and the force's, each
 * headed with its name and on its own scale (the force counts many times the area's crimes), so
 * the shapes compare and no colour has to be matched to a legend; a mix is bars labelled with
 * their numbers. The page puts the same figures in a table beside each chart. Pure.
 */
import type { TopLevelSpec } from 'vega-lite';
import { monthLabel } from '../domain/police-trends.js';
import { CONFIG, labelledBarLayers, labelSvg, render, type ChartText } from './charts.js';

/** Labelled as the dashboard's are, with a class of their own (the dashboard lists its own charts by theirs). */
function trendSvg(svg: string, text: ChartText): string {
  return labelSvg(svg, text).replace(
    /^<svg class="app-chart__svg"/,
    '<svg class="app-chart__svg app-chart__svg--trend"',
  );
}

export interface TrendPoint {
  month: string;
  area: number;
  force: number;
}

const AREA_COLOUR = '#1d70b8';
const FORCE_COLOUR = '#505a5f';
/** Beyond this many months the points are not labelled with their numbers: the table has them. */
const LABELLED_MONTHS = 13;

/** The area's and the force's monthly counts, one panel each. */
export async function trendChartSvg(
  points: readonly TrendPoint[],
  text: ChartText,
  options: { forceName: string; width?: number; height?: number },
): Promise<string> {
  const months = points.map((p) => monthLabel(p.month, true));
  const areaPanel = 'Area';
  const forcePanel = `Force: ${options.forceName}`;
  const values = points.flatMap((p, i) => [
    { month: months[i]!, panel: areaPanel, n: p.area },
    { month: months[i]!, panel: forcePanel, n: p.force },
  ]);
  const x = {
    field: 'month',
    type: 'ordinal' as const,
    title: null,
    sort: months,
    axis: { labelAngle: months.length > 6 ? -45 : 0, labelFontSize: 12 },
  };
  const y = {
    field: 'n',
    type: 'quantitative' as const,
    title: 'Crimes',
    scale: { zero: true },
    axis: { tickCount: 4, labelFontSize: 12, titleFontSize: 12 },
  };
  const colour = {
    field: 'panel',
    type: 'nominal' as const,
    legend: null,
    scale: { domain: [areaPanel, forcePanel], range: [AREA_COLOUR, FORCE_COLOUR] },
  };
  const labelled = points.length <= LABELLED_MONTHS;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    config: CONFIG,
    facet: {
      column: {
        field: 'panel',
        type: 'nominal',
        title: null,
        sort: [areaPanel, forcePanel],
        header: { labelLimit: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' },
      },
    },
    resolve: { scale: { y: 'independent' } },
    spacing: 24,
    spec: {
      width: options.width ?? Math.max(160, Math.min(420, points.length * 36)),
      height: options.height ?? 160,
      layer: [
        { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color: colour } },
        { mark: { type: 'point', filled: true, size: 40, opacity: 1 }, encoding: { x, y, color: colour } },
        ...(labelled
          ? [
              {
                mark: { type: 'text' as const, dy: -10, fontSize: 12 },
                encoding: { x, y, text: { field: 'n', type: 'quantitative' as const } },
              },
            ]
          : []),
      ],
    },
  };
  return trendSvg(await render(spec), text);
}

/** Bars labelled with their numbers, one a row, in the order given. */
export async function barChartSvg(
  rows: readonly { label: string; n: number }[],
  text: ChartText,
  options: { colour?: string; width?: number } = {},
): Promise<string> {
  const max = Math.max(1, ...rows.map((r) => r.n));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows.map((r) => ({ label: r.label, n: r.n })) },
    config: CONFIG,
    width: options.width ?? 360,
    height: { step: 24 },
    layer: labelledBarLayers({
      field: 'label',
      sort: rows.map((r) => r.label),
      max,
      headroom: 1.2,
      labelLimit: 320,
      markColour: options.colour ?? AREA_COLOUR,
    }),
  };
  return trendSvg(await render(spec), text);
}
