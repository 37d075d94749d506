import { describe, expect, it } from 'vitest';
import {
  buildPccReport,
  describeSteps,
  formatPence,
  fundingProblems,
  grandTotal,
  halfDates,
  NO_PRIORITY,
  parseHalf,
  parsePounds,
  pccReportFilename,
  penceToPoundsText,
  stateAsAt,
  totalsBy,
  totalsByState,
  type FundingFacts,
  type FundingLineForReport,
} from '../../src/domain/funding.js';
import { canManageFunding, type Member, type Role } from '../../src/domain/permissions.js';

const facts = (extra: Partial<FundingFacts> = {}): FundingFacts => ({
  source: 'Letchworth Heritage Foundation',
  amountPence: 1_000_000,
  state: 'received',
  appliedOn: null,
  awardedOn: null,
  receivedOn: '2024-06-30',
  spentOn: null,
  spentToDatePence: 0,
  notes: null,
  ...extra,
});

const fields = (line: FundingFacts) => fundingProblems(line).map((p) => p.field);

describe('money', () => {
  it('reads pounds as people type them into pence', () => {
    expect(parsePounds('£10,000')).toBe(1_000_000);
    expect(parsePounds('10000')).toBe(1_000_000);
    expect(parsePounds('10000.50')).toBe(1_000_050);
    expect(parsePounds('10,000.5')).toBe(1_000_050);
    expect(parsePounds(' £ 1,234.56 ')).toBe(123_456);
    expect(parsePounds('0')).toBe(0);
    expect(parsePounds('0.07')).toBe(7);
  });

  it('refuses what is not an amount of pounds', () => {
    for (const text of [
      '',
      '£',
      '-10',
      '10.505',
      '1,00',
      '10,0000',
      'ten',
      '£10k',
      '1e5',
      '10.',
      '99999999999999',
    ])
      expect(parsePounds(text), text).toBeUndefined();
  });

  it('writes pence as pounds, with thousands and two places', () => {
    expect(formatPence(1_000_000)).toBe('£10,000.00');
    expect(formatPence(123_456_789)).toBe('£1,234,567.89');
    expect(formatPence(5)).toBe('£0.05');
    expect(formatPence(0)).toBe('£0.00');
    expect(formatPence(-250)).toBe('-£2.50');
    expect(penceToPoundsText(1_000_000)).toBe('10000');
    expect(penceToPoundsText(1_000_050)).toBe('10000.50');
    expect(parsePounds(penceToPoundsText(123_407))).toBe(123_407);
  });
});

describe('the rules of a funding line', () => {
  it('takes a line received with only its date received (the steps before it may be unknown)', () => {
    expect(fundingProblems(facts())).toEqual([]);
  });

  it('needs the date of the step the line is in', () => {
    expect(fields(facts({ receivedOn: null }))).toEqual(['receivedOn']);
    expect(fields(facts({ state: 'applied', receivedOn: null }))).toEqual(['appliedOn']);
    expect(fundingProblems(facts({ state: 'spent', spentOn: null }))[0]!.message).toBe(
      'Enter the date spent: the line is spent',
    );
  });

  it('refuses a date for a step the line has not reached', () => {
    expect(fields(facts({ state: 'awarded', awardedOn: '2024-05-01' }))).toEqual(['receivedOn']);
  });

  it('needs the dates in order: applied, awarded, received, spent', () => {
    const line = facts({
      state: 'spent',
      appliedOn: '2024-05-01',
      awardedOn: '2024-04-01',
      spentOn: '2024-07-01',
    });
    expect(fields(line)).toEqual(['awardedOn']);
    expect(fields(facts({ state: 'spent', receivedOn: '2024-06-30', spentOn: '2024-06-29' }))).toEqual([
      'spentOn',
    ]);
    // A blank step between does not break the order.
    expect(fields(facts({ state: 'spent', appliedOn: '2024-04-01', spentOn: '2024-09-01' }))).toEqual([]);
    expect(fields(facts({ appliedOn: '2024-06-30', awardedOn: '2024-06-30' }))).toEqual([]);
  });

  it('refuses a date that is not a real one', () => {
    expect(fields(facts({ receivedOn: '2024-02-30' }))).toEqual(['receivedOn']);
    expect(fields(facts({ receivedOn: '2024--01' }))).toEqual(['receivedOn']);
  });

  it('lets spent to date exceed the amount only when the notes say why', () => {
    expect(fields(facts({ spentToDatePence: 1_000_001 }))).toEqual(['spentToDate']);
    expect(fields(facts({ spentToDatePence: 1_000_001, notes: 'Topped up from reserves' }))).toEqual([]);
    expect(fields(facts({ spentToDatePence: 1_000_000 }))).toEqual([]);
    expect(fields(facts({ spentToDatePence: -1 }))).toEqual(['spentToDate']);
  });

  it('needs a source and an amount that is not negative', () => {
    expect(fields(facts({ source: '  ', amountPence: -5 }))).toEqual(['source', 'amount']);
  });
});

describe('a line’s state on a day, and the halves of the year', () => {
  const line = facts({
    state: 'spent',
    appliedOn: '2024-04-10',
    receivedOn: '2024-06-30',
    spentOn: '2024-11-02',
  });

  it('is the latest step dated on or before the day', () => {
    expect(stateAsAt(line, '2024-04-09')).toBeNull();
    expect(stateAsAt(line, '2024-04-10')).toBe('applied');
    expect(stateAsAt(line, '2024-09-30')).toBe('received');
    expect(stateAsAt(line, '2025-03-31')).toBe('spent');
    // A received line with no earlier dates had reached nothing the dates show before it arrived.
    expect(stateAsAt(facts(), '2024-06-29')).toBeNull();
  });

  it('splits the plan year into H1 (April to September) and H2 (October to March)', () => {
    expect(halfDates('2024/25', 'H1')).toEqual({ startsOn: '2024-04-01', endsOn: '2024-09-30' });
    expect(halfDates('2024/25', 'H2')).toEqual({ startsOn: '2024-10-01', endsOn: '2025-03-31' });
    expect(parseHalf('h2')).toBe('H2');
    expect(parseHalf('H3')).toBeUndefined();
    expect(pccReportFilename('sosafe', '2024/25', 'H1', 'docx')).toBe(
      'sosafe-pcc-budget-report-2024-25-H1.docx',
    );
  });

  it('describes its dated steps in words', () => {
    expect(describeSteps(line)).toBe(
      'Applied for 10 April 2024 · Received 30 June 2024 · Spent 2 November 2024',
    );
  });
});

describe('totals and the PCC’s half-year report', () => {
  const base = (id: number, extra: Partial<FundingLineForReport>): FundingLineForReport => ({
    ...facts(),
    id,
    sectionNumber: 2,
    sectionTitle: 'Domestic abuse',
    aimNumber: '2.2',
    aimTitle: 'Refuge',
    actionLabel: 'Action 1: Expand',
    priorities: ['VAWG', 'Serious violence'],
    ...extra,
  });
  const lines = [
    base(1, {}),
    base(2, {
      source: 'PCC Community Safety Fund',
      amountPence: 500_000,
      state: 'spent',
      appliedOn: '2024-05-01',
      awardedOn: '2024-06-01',
      receivedOn: '2024-10-05',
      spentOn: '2024-12-01',
      spentToDatePence: 200_000,
    }),
    base(3, {
      source: 'Serious Violence Fund',
      amountPence: 250_000,
      state: 'applied',
      appliedOn: '2024-11-15',
      receivedOn: null,
      sectionNumber: 4,
      sectionTitle: 'Drugs',
      aimNumber: '4.0',
      priorities: [],
      actionLabel: null,
    }),
  ];
  const report = (half: 'H1' | 'H2') =>
    buildPccReport({
      partnership: { name: 'SoSafe Stevenage', area: 'Stevenage' },
      planYear: '2024/25',
      planTitle: 'Action plan 2024/25',
      half,
      preparedOn: '2025-04-02',
      lines,
      sectionOrder: ['2. Domestic abuse', '4. Drugs'],
      priorityOrder: ['Serious violence', 'VAWG'],
    });

  it('counts each line in the state it had reached by the half’s last day, leaving out those not yet started', () => {
    const h1 = report('H1');
    expect(h1.lines.map((l) => [l.id, l.state, l.currentState])).toEqual([
      [1, 'received', 'received'],
      [2, 'awarded', 'spent'],
    ]);
    expect(h1.notYetStarted).toBe(1);
    expect(h1.lines[1]!.stepsInHalf).toEqual([
      { state: 'applied', on: '2024-05-01' },
      { state: 'awarded', on: '2024-06-01' },
    ]);
    const h2 = report('H2');
    expect(h2.lines.map((l) => [l.id, l.state])).toEqual([
      [1, 'received'],
      [2, 'spent'],
      [3, 'applied'],
    ]);
    expect(h2.lines[1]!.stepsInHalf).toEqual([
      { state: 'received', on: '2024-10-05' },
      { state: 'spent', on: '2024-12-01' },
    ]);
    expect(h2.lines[0]!.stepsInHalf).toEqual([]);
  });

  it('totals by source, state, priority and section, counting a line once in the grand total', () => {
    const { totals } = report('H2');
    expect(totals.all).toMatchObject({ lines: 3, totalPence: 1_750_000, spentToDatePence: 200_000 });
    expect(totals.all.byState).toEqual({ applied: 250_000, awarded: 0, received: 1_000_000, spent: 500_000 });
    expect(totals.byState.map((r) => [r.label, r.totalPence])).toEqual([
      ['Applied for', 250_000],
      ['Awarded', 0],
      ['Received', 1_000_000],
      ['Spent', 500_000],
    ]);
    expect(totals.bySource.map((r) => [r.label, r.totalPence])).toEqual([
      ['Letchworth Heritage Foundation', 1_000_000],
      ['PCC Community Safety Fund', 500_000],
      ['Serious Violence Fund', 250_000],
    ]);
    // Lines 1 and 2 address two priorities each: counted under both, in the plan's order.
    expect(totals.byPriority.map((r) => [r.label, r.lines, r.totalPence])).toEqual([
      ['Serious violence', 2, 1_500_000],
      ['VAWG', 2, 1_500_000],
      [NO_PRIORITY, 1, 250_000],
    ]);
    const priorityRows = totals.byPriority.reduce((sum, r) => sum + r.totalPence, 0);
    expect(priorityRows).toBeGreaterThan(totals.all.totalPence);
    expect(totals.bySection.map((r) => [r.label, r.totalPence])).toEqual([
      ['2. Domestic abuse', 1_500_000],
      ['4. Drugs', 250_000],
    ]);
  });

  it('lists every state, with no lines as £0, and groups in order', () => {
    expect(totalsByState([]).map((r) => r.totalPence)).toEqual([0, 0, 0, 0]);
    expect(grandTotal([]).totalPence).toBe(0);
    const rows = totalsBy(lines, (l) => [l.source], ['Serious Violence Fund']);
    expect(rows[0]!.label).toBe('Serious Violence Fund');
  });
});

describe('who may record funding', () => {
  const member = (role: Role, extra: Partial<Member> = {}): Member => ({
    userId: 1,
    name: 'Someone',
    partnershipId: 10,
    role,
    organisationId: null,
    personId: null,
    reviewsUpdates: false,
    ...extra,
  });
  const action = { partnershipId: 10, organisationIds: [3], personIds: [7] };

  it('the coordinator, any line of their partnership', () => {
    expect(canManageFunding(member('coordinator'), 10, null)).toBe(true);
    expect(canManageFunding(member('coordinator'), 10, action)).toBe(true);
    expect(canManageFunding(member('coordinator'), 11, null)).toBe(false);
  });

  it('a lead officer, lines on the actions they or their organisation lead, never a whole aim’s', () => {
    expect(canManageFunding(member('lead_officer', { personId: 7 }), 10, action)).toBe(true);
    expect(canManageFunding(member('lead_officer', { organisationId: 3 }), 10, action)).toBe(true);
    expect(canManageFunding(member('lead_officer', { personId: 8, organisationId: 4 }), 10, action)).toBe(
      false,
    );
    expect(canManageFunding(member('lead_officer', { personId: 7 }), 10, null)).toBe(false);
    expect(canManageFunding(member('lead_officer', { personId: 7, partnershipId: 11 }), 11, action)).toBe(
      false,
    );
  });

  it('never a partner, the board or someone signed out', () => {
    expect(canManageFunding(member('partner', { organisationId: 3 }), 10, action)).toBe(false);
    expect(canManageFunding(member('board_member', { personId: 7 }), 10, action)).toBe(false);
    expect(canManageFunding(undefined, 10, null)).toBe(false);
  });
});
