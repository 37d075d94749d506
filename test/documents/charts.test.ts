import { describe, expect, it } from 'vitest';
import { statusChartSvg, textWidth, wrapLabel } from '../../src/documents/charts.js';

const counts = { not_started: 0, on_track: 2, at_risk: 1, off_track: 0, complete: 0, none: 3 };
const SECTION_2 =
  '2. Provide safe reporting and support to domestic abuse survivors and victims of modern slavery';

/** The axis labels' text, line by line (a multi-line label is one <text> of <tspan>s). */
function labelLines(svg: string): string[][] {
  return [...svg.matchAll(/<text text-anchor="end"[^>]*>(.*?)<\/text>/g)].map(([, inner]) =>
    inner!.includes('<tspan')
      ? [...inner!.matchAll(/<tspan[^>]*>(.*?)<\/tspan>/g)].map((m) => m[1]!)
      : [inner!],
  );
}

describe('chart labels', () => {
  it('wraps a label at spaces into lines no longer than the width', () => {
    expect(wrapLabel('1. Divert young people from becoming involved in crime and ASB')).toBe(
      '1. Divert young people from\nbecoming involved in crime and ASB',
    );
    expect(wrapLabel('Fraud')).toBe('Fraud');
    const lines = wrapLabel(SECTION_2).split('\n');
    expect(lines.every((l) => l.length <= 34)).toBe(true);
    expect(lines.join(' ')).toBe(SECTION_2);
  });

  it('keeps a word longer than the width whole, and ends a label cut at the last line with an ellipsis', () => {
    expect(wrapLabel('a Hertfordshireconstabularyareaword b', 10)).toBe(
      'a\nHertfordshireconstabularyareaword\nb',
    );
    expect(wrapLabel('one two three four five six', 9, 2)).toBe('one two\nthree…');
  });

  it('measures text by its letters, bold wider', () => {
    expect(textWidth('iiii', 14)).toBeLessThan(textWidth('MMMM', 14) / 2);
    expect(textWidth('Serious violence', 14, true)).toBeGreaterThan(textWidth('Serious violence', 14));
    // Vega's own guess without a canvas: 0.8 of the font size a character, far too wide.
    expect(textWidth('1. Divert young people from', 14)).toBeLessThan(0.8 * 14 * 27 * 0.75);
  });

  it('draws long section titles whole, over several lines, instead of cutting them short', async () => {
    const svg = await statusChartSvg(
      [
        { label: '1. Divert young people from becoming involved in crime and ASB', counts },
        { label: SECTION_2, counts },
        { label: '3. Short', counts },
      ],
      { id: 'sections', title: 'Statuses by section', description: 'Figures' },
    );
    const labels = labelLines(svg);
    expect(labels).toEqual([
      ['1. Divert young people from', 'becoming involved in crime and ASB'],
      wrapLabel(SECTION_2).split('\n'),
      ['3. Short'],
    ]);
    expect(svg).not.toContain('…');
  });

  it('gives the font once, on the image, for every text to inherit', async () => {
    const svg = await statusChartSvg([{ label: '1. Divert young people', counts }], {
      id: 'font',
      title: 'Statuses',
      description: 'Figures',
    });
    const root = /^<svg\b[^>]*>/.exec(svg)![0];
    const font = /font-family="([^"]+)"/.exec(root)?.[1];
    expect(font).toMatch(/system-ui.*sans-serif$/);
    expect(svg.match(/<text\b/g)!.length).toBeGreaterThan(3);
    expect(svg.match(/font-family=/g)).toHaveLength(1);
  });
});
