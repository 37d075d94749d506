import { describe, expect, it } from 'vitest';
import { describeParty, formatParties, parseParties } from '../../src/domain/parties.js';

describe('leads and partners as text', () => {
  it('reads one organisation a line, officers after a colon', () => {
    expect(parseParties('SBC: Will Peters; Mel Cucos\n\n  JAG members \nPolice: NPT Inspector')).toEqual([
      { organisation: 'SBC', officers: ['Will Peters', 'Mel Cucos'] },
      { organisation: 'JAG members', officers: [] },
      { organisation: 'Police', officers: ['NPT Inspector'] },
    ]);
  });

  it('keeps brackets in an organisation name', () => {
    expect(parseParties('Intensive Family Support Team (IFST)')).toEqual([
      { organisation: 'Intensive Family Support Team (IFST)', officers: [] },
    ]);
  });

  it('writes what it reads', () => {
    const parties = [
      { organisation: 'SADA', officers: ['Tania King'] },
      { organisation: 'Police', officers: [] },
    ];
    expect(parseParties(formatParties(parties))).toEqual(parties);
    expect(describeParty(parties[0]!)).toBe('SADA (Tania King)');
  });
});
