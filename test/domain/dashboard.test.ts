import { describe, expect, it } from 'vitest';
import {
  aimsWithoutUpdate,
  countAll,
  countStatuses,
  coverageOf,
  defaultQuarter,
  formatChange,
  isLiveAction,
  organisationInvolvement,
  priorityCoverage,
  statusColumn,
  withChange,
} from '../../src/domain/dashboard.js';

const groups = [
  { key: 1, label: 'One' },
  { key: 2, label: 'Two' },
];

describe('counting statuses', () => {
  it('counts each action under every group it falls in, once, and ignores unknown keys', () => {
    const rows = countStatuses(groups, [
      { keys: [1], status: 'on_track' },
      { keys: [1, 2, 2], status: 'at_risk' },
      { keys: [2], status: 'none' },
      { keys: [9], status: 'complete' },
    ]);
    expect(rows.map((r) => [r.label, r.total, r.counts.on_track, r.counts.at_risk, r.counts.none])).toEqual([
      ['One', 2, 1, 1, 0],
      ['Two', 2, 0, 1, 1],
    ]);
    expect(rows[0]!.counts.complete).toBe(0);
  });

  it('counts every action once in the total', () => {
    const total = countAll('All actions', [
      { keys: [1, 2], status: 'on_track' },
      { keys: [], status: 'none' },
    ]);
    expect(total).toMatchObject({ label: 'All actions', total: 2, counts: { on_track: 1, none: 1 } });
  });

  it('puts an update with no status, or none, under "none"', () => {
    expect(statusColumn(null)).toBe('none');
    expect(statusColumn(undefined)).toBe('none');
    expect(statusColumn('off_track')).toBe('off_track');
  });
});

describe('the change from the previous quarter', () => {
  it('subtracts the previous counts of the same group', () => {
    const now = countStatuses(groups, [
      { keys: [1], status: 'on_track' },
      { keys: [1], status: 'on_track' },
      { keys: [2], status: 'complete' },
    ]);
    const before = countStatuses(groups, [
      { keys: [1], status: 'at_risk' },
      { keys: [1], status: 'on_track' },
      { keys: [2], status: 'none' },
    ]);
    const [one, two] = withChange(now, before);
    expect(one!.change).toMatchObject({ on_track: 1, at_risk: -1, none: 0 });
    expect(two!.change).toMatchObject({ complete: 1, none: -1 });
  });

  it('has no change without a previous quarter, and writes changes with a sign', () => {
    expect(withChange(countStatuses(groups, []), null)[0]!.change).toBeNull();
    expect([formatChange(2), formatChange(0), formatChange(-3)]).toEqual(['+2', '0', '\u22123']);
  });
});

describe('the default quarter', () => {
  it('is the latest quarter with updates or open, else Q1', () => {
    expect(defaultQuarter([1, 2, 3], [])).toBe(3);
    expect(defaultQuarter([1, 2], [3])).toBe(3);
    expect(defaultQuarter([], [])).toBe(1);
  });
});

describe('aims with no update for two quarters', () => {
  const aims = [
    { id: 1, number: '1.1', title: 'Updated in Q3', quartersUpdated: [1, 3] as const },
    { id: 2, number: '1.2', title: 'Updated in Q1 only', quartersUpdated: [1] as const },
    { id: 3, number: '1.3', title: 'Never updated', quartersUpdated: [] as const },
    { id: 4, number: '1.4', title: 'Updated in Q2', quartersUpdated: [2, 4] as const },
  ];

  it('lists aims with no update in the quarter nor the one before, with their last update', () => {
    expect(aimsWithoutUpdate(aims, 3)?.map((a) => [a.number, a.lastUpdated])).toEqual([
      ['1.2', 1],
      ['1.3', null],
    ]);
    expect(aimsWithoutUpdate(aims, 4)?.map((a) => a.number)).toEqual(['1.2', '1.3']);
  });

  it('has nothing to say in Q1', () => {
    expect(aimsWithoutUpdate(aims, 1)).toBeUndefined();
  });
});

describe('coverage', () => {
  it('counts an action live until its latest status by the quarter is complete', () => {
    const updates = [
      { quarter: 1 as const, status: 'on_track' as const },
      { quarter: 2 as const, status: 'complete' as const },
      { quarter: 3 as const, status: null },
    ];
    expect(isLiveAction(updates, 1)).toBe(true);
    expect(isLiveAction(updates, 3)).toBe(false);
    expect(isLiveAction([], 3)).toBe(true);
  });

  it('marks priorities with no or few live actions', () => {
    const rows = priorityCoverage(
      [
        { id: 1, title: 'Fraud', aimIds: [] },
        { id: 2, title: 'ASB', aimIds: [10, 11] },
        { id: 3, title: 'Cuckooing', aimIds: [11] },
      ],
      [
        { id: 10, liveActions: 3 },
        { id: 11, liveActions: 1 },
        { id: 12, liveActions: 5 },
      ],
    );
    expect(rows.map((r) => [r.title, r.cells, r.aims, r.liveActions, r.coverage])).toEqual([
      ['Fraud', [null, null, null], 0, 0, 'none'],
      ['ASB', [3, 1, null], 2, 4, 'covered'],
      ['Cuckooing', [null, 1, null], 1, 1, 'few'],
    ]);
    expect([coverageOf(0), coverageOf(2), coverageOf(3)]).toEqual(['none', 'few', 'covered']);
  });

  it('shows which organisations lead or partner in each aim, by name', () => {
    const rows = organisationInvolvement(
      [
        { id: 1, actions: [{ leads: [7], partners: [8] }] },
        {
          id: 2,
          actions: [
            { leads: [8], partners: [] },
            { leads: [9], partners: [8] },
          ],
        },
      ],
      new Map([
        [7, 'Police'],
        [8, 'Council'],
        [9, 'Fire'],
      ]),
    );
    expect(rows.map((r) => [r.name, r.cells, r.aimsLed, r.aimsAsPartner])).toEqual([
      ['Council', ['partner', 'both'], 1, 2],
      ['Fire', [null, 'lead'], 1, 0],
      ['Police', ['lead', null], 1, 0],
    ]);
  });
});
