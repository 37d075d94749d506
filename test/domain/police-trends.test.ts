/**
 * The links suggested from a plan's priorities' titles (SoSafe's real priorities among them), and
 * the months chooser's and the links form's small rules.
 */
import { describe, expect, it } from 'vitest';
import {
  defaultLinks,
  linksFingerprint,
  monthRange,
  parseTrendMonths,
  POLICE_CRIME_TYPES,
  shareOf,
  suggestCrimeTypes,
} from '../../src/domain/police-trends.js';

describe('the links suggested by a priority’s title', () => {
  it('links SoSafe’s 2024/25 priorities as the issue asks', () => {
    const expected: [string, string[]][] = [
      ['All ASB', ['Anti-social behaviour']],
      ['Serious violence', ['Violence and sexual offences']],
      ['Cuckooing', ['Drugs']],
      [
        'Drugs possession and associated crime, which includes trafficking, cuckooing and knife crime',
        ['Drugs', 'Possession of weapons'],
      ],
      [
        'VAWG, including domestic abuse sexual assaults, rape, and stalking & harassment',
        ['Violence and sexual offences'],
      ],
      ['County lines and Serious & Organised Crime (SOC)', ['Drugs']],
      // police.uk publishes no fraud: Action Fraud records it.
      ['Fraud', []],
    ];
    for (const [title, types] of expected) expect(suggestCrimeTypes(title), title).toEqual(types);
  });

  it('reads other partnerships’ wording, in police.uk’s order, without matching inside words', () => {
    expect(suggestCrimeTypes('Anti-social behaviour and criminal damage')).toEqual([
      'Anti-social behaviour',
      'Criminal damage and arson',
    ]);
    expect(suggestCrimeTypes('Antisocial behaviour')).toEqual(['Anti-social behaviour']);
    expect(suggestCrimeTypes('Knife crime and robbery')).toEqual(['Possession of weapons', 'Robbery']);
    expect(suggestCrimeTypes('Domestic abuse')).toEqual(['Violence and sexual offences']);
    expect(suggestCrimeTypes('Burglary and vehicle crime')).toEqual(['Burglary', 'Vehicle crime']);
    expect(suggestCrimeTypes('Shoplifting and retail crime')).toEqual(['Shoplifting']);
    expect(suggestCrimeTypes('Graffiti and arson')).toEqual(['Criminal damage and arson']);
    expect(suggestCrimeTypes('Night-time economy disorder')).toEqual(['Public order']);
    expect(suggestCrimeTypes('Acquisitive crime')).toHaveLength(7);
    // "ASB" only as a word: not inside "Wasbrook".
    expect(suggestCrimeTypes('Wasbrook estate')).toEqual([]);
    expect(suggestCrimeTypes('Road safety')).toEqual([]);
  });

  it('makes one link per priority and suggested type, and every type is police.uk’s', () => {
    const links = defaultLinks([
      { id: 1, title: 'All ASB' },
      { id: 2, title: 'Fraud' },
      { id: 3, title: 'Drugs and knife crime' },
    ]);
    expect(links).toEqual([
      { priorityId: 1, crimeType: 'Anti-social behaviour' },
      { priorityId: 3, crimeType: 'Drugs' },
      { priorityId: 3, crimeType: 'Possession of weapons' },
    ]);
    expect(POLICE_CRIME_TYPES).toHaveLength(14);
  });
});

describe('the small rules', () => {
  it('fingerprints a set of links whatever their order, and tells a change', () => {
    const a = { priorityId: 1, crimeType: 'Drugs' };
    const b = { priorityId: 2, crimeType: 'Robbery' };
    expect(linksFingerprint([a, b])).toBe(linksFingerprint([b, a]));
    expect(linksFingerprint([a])).not.toBe(linksFingerprint([b]));
    expect(linksFingerprint([])).not.toBe(linksFingerprint([a]));
  });

  it('takes 1 to 60 months, else 12', () => {
    expect(parseTrendMonths('24')).toBe(24);
    expect(parseTrendMonths('60')).toBe(60);
    for (const bad of [undefined, '', '0', '61', '-3', '1.5', 'all']) expect(parseTrendMonths(bad)).toBe(12);
  });

  it('writes months and shares for people', () => {
    expect(monthRange(['2022-01'])).toBe('January 2022');
    expect(monthRange(['2021-02', '2022-01'])).toBe('February 2021 to January 2022');
    expect(shareOf(820, 8058)).toBe('10.2%');
    expect(shareOf(3, 0)).toBe('–');
  });
});
