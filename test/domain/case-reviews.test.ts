/**
 * The Community Trigger's rules: the threshold over periods of months (edge days included),
 * financial years, the four annual figures with published history, redaction dates, and who may.
 */
import { describe, expect, it } from 'vitest';
import {
  annualFigures,
  canManageCaseReviews,
  canReadCaseReview,
  canReadPersonalDetails,
  canUpdateCaseReview,
  decideThreshold,
  describeDecision,
  financialYear,
  formatDays,
  isIsoDay,
  isRedactionDue,
  periodEnd,
  redactionDueOn,
} from '../../src/domain/case-reviews.js';
import type { Member, Role } from '../../src/domain/permissions.js';

const rule = { complaints: 3, months: 6 };

describe('the threshold', () => {
  it('ends a period of months the day before the corresponding day, or at the end of a short month', () => {
    expect(periodEnd('2024-01-12', 6)).toBe('2024-07-11');
    expect(periodEnd('2023-08-31', 6)).toBe('2024-02-29');
    expect(periodEnd('2022-08-31', 6)).toBe('2023-02-28');
    expect(periodEnd('2024-03-01', 1)).toBe('2024-03-31');
    expect(periodEnd('2023-11-15', 3)).toBe('2024-02-14');
  });

  it('is met by three complaints within six months, and says which', () => {
    const decision = decideThreshold(['2024-05-20', '2024-01-12', '2024-03-02'], '2024-06-01', rule);
    expect(decision.met).toBe(true);
    expect(decision.complaints).toEqual(['2024-01-12', '2024-03-02', '2024-05-20']);
    expect(describeDecision(decision)).toBe('3 complaints within 6 months: 12 Jan, 2 Mar, 20 May 2024');
  });

  it('counts the last day of the period, and not the day after', () => {
    expect(decideThreshold(['2024-01-12', '2024-03-02', '2024-07-11'], '2024-08-01', rule).met).toBe(true);
    const late = decideThreshold(['2024-01-12', '2024-03-02', '2024-07-12'], '2024-08-01', rule);
    expect(late.met).toBe(false);
    expect(describeDecision(late)).toBe(
      'Not met: 3 complaints within 6 months needed, at most 2 complaints within any 6 months (12 Jan, 2 Mar 2024)',
    );
  });

  it('finds a later period when the first holds too few', () => {
    const decision = decideThreshold(
      ['2023-01-05', '2023-11-20', '2024-01-03', '2024-02-14'],
      '2024-03-01',
      rule,
    );
    expect(decision.met).toBe(true);
    expect(formatDays(decision.complaints)).toBe('20 Nov 2023, 3 Jan, 14 Feb 2024');
  });

  it('counts only complaints made on or before the day the application was received', () => {
    const decision = decideThreshold(['2024-01-12', '2024-03-02', '2024-06-02'], '2024-06-01', rule);
    expect(decision).toMatchObject({ met: false, ignored: 1 });
    expect(decideThreshold(['2024-01-12', '2024-03-02', '2024-06-01'], '2024-06-01', rule).met).toBe(true);
  });

  it('follows the partnership’s own rule, and explains none', () => {
    expect(
      decideThreshold(['2024-01-12', '2024-03-02'], '2024-06-01', { complaints: 2, months: 2 }).met,
    ).toBe(true);
    expect(
      decideThreshold(['2024-01-12', '2024-03-13'], '2024-06-01', { complaints: 2, months: 2 }).met,
    ).toBe(false);
    expect(describeDecision(decideThreshold([], '2024-06-01', rule))).toBe(
      'Not met: 3 complaints within 6 months needed, no complaint made on or before the day the application was received',
    );
  });

  it('knows a real day', () => {
    expect(isIsoDay('2024-02-29')).toBe(true);
    expect(isIsoDay('2023-02-29')).toBe(false);
    expect(isIsoDay('2024-13-01')).toBe(false);
    expect(isIsoDay('2024-6-1')).toBe(false);
  });
});

describe('financial years', () => {
  it('run from 1 April to 31 March', () => {
    expect(financialYear('2024-04-01')).toBe('2024/25');
    expect(financialYear('2025-03-31')).toBe('2024/25');
    expect(financialYear('2024-03-31')).toBe('2023/24');
    expect(financialYear('1999-12-31')).toBe('1999/00');
  });
});

describe('the annual figures', () => {
  it('count applications by the year received and reviews by the year held', () => {
    const figures = annualFigures([
      { receivedOn: '2024-03-20', thresholdMet: true, reviewOn: '2024-04-10', recommendations: 2 },
      { receivedOn: '2024-05-01', thresholdMet: false, reviewOn: null, recommendations: 0 },
      { receivedOn: '2024-06-01', thresholdMet: true, reviewOn: '2024-07-01', recommendations: 0 },
    ]);
    expect(
      figures.map(
        ({ year, applicationsReceived, thresholdNotMet, reviewsCarriedOut, reviewsWithRecommendations }) => ({
          year,
          applicationsReceived,
          thresholdNotMet,
          reviewsCarriedOut,
          reviewsWithRecommendations,
        }),
      ),
    ).toEqual([
      {
        year: '2023/24',
        applicationsReceived: 1,
        thresholdNotMet: 0,
        reviewsCarriedOut: 0,
        reviewsWithRecommendations: 0,
      },
      {
        year: '2024/25',
        applicationsReceived: 2,
        thresholdNotMet: 1,
        reviewsCarriedOut: 2,
        reviewsWithRecommendations: 1,
      },
    ]);
  });

  it('add published years, the register winning a year in both', () => {
    const published = [
      {
        year: '2020/21',
        applicationsReceived: 2,
        thresholdNotMet: 1,
        reviewsCarriedOut: 1,
        reviewsWithRecommendations: null,
        sourceUrl: 'https://example.org/ct',
      },
      {
        year: '2024/25',
        applicationsReceived: 9,
        thresholdNotMet: 9,
        reviewsCarriedOut: 9,
        reviewsWithRecommendations: 9,
        sourceUrl: 'https://example.org/ct',
      },
    ];
    const figures = annualFigures(
      [{ receivedOn: '2024-05-01', thresholdMet: true, reviewOn: null, recommendations: 0 }],
      published,
    );
    expect(figures).toEqual([
      { ...published[0], source: 'published', publishedToo: false },
      {
        year: '2024/25',
        applicationsReceived: 1,
        thresholdNotMet: 0,
        reviewsCarriedOut: 0,
        reviewsWithRecommendations: 0,
        source: 'register',
        publishedToo: true,
        sourceUrl: 'https://example.org/ct',
      },
    ]);
  });
});

describe('redaction', () => {
  it('is due the retention years after closing, or after receipt when never closed', () => {
    expect(redactionDueOn({ receivedOn: '2018-01-10', closedOn: '2018-05-02' }, 6)).toBe('2024-05-02');
    expect(redactionDueOn({ receivedOn: '2018-01-10', closedOn: null }, 6)).toBe('2024-01-10');
    expect(redactionDueOn({ receivedOn: '2020-02-29', closedOn: null }, 1)).toBe('2021-02-28');
    const row = { receivedOn: '2018-01-10', closedOn: '2018-05-02', redactedAt: null };
    expect(isRedactionDue(row, 6, '2024-05-01')).toBe(false);
    expect(isRedactionDue(row, 6, '2024-05-02')).toBe(true);
    expect(isRedactionDue({ ...row, redactedAt: new Date() }, 6, '2030-01-01')).toBe(false);
  });
});

describe('who may', () => {
  const member = (role: Role, userId = 1, partnershipId = 7): Member => ({
    userId,
    name: 'Someone',
    partnershipId,
    role,
    organisationId: null,
    personId: null,
    reviewsUpdates: false,
  });
  const review = { partnershipId: 7, caseOfficerUserId: 42 };

  it('lets the coordinator and the case officer see a case and its personal details, nobody else', () => {
    for (const check of [canReadCaseReview, canReadPersonalDetails, canUpdateCaseReview]) {
      expect(check(member('coordinator'), review)).toBe(true);
      expect(check(member('lead_officer', 42), review)).toBe(true);
      expect(check(member('partner', 42), review)).toBe(true);
      expect(check(member('lead_officer', 43), review)).toBe(false);
      expect(check(member('partner'), review)).toBe(false);
      expect(check(member('board_member'), review)).toBe(false);
      expect(check(member('coordinator', 1, 8), review)).toBe(false);
      expect(check(member('lead_officer', 42, 8), review)).toBe(false);
      expect(check(undefined, review)).toBe(false);
      expect(check(member('lead_officer', 42), { ...review, caseOfficerUserId: null })).toBe(false);
    }
  });

  it('leaves applications and settings to the coordinator', () => {
    expect(canManageCaseReviews(member('coordinator'), 7)).toBe(true);
    expect(canManageCaseReviews(member('lead_officer', 42), 7)).toBe(false);
    expect(canManageCaseReviews(member('coordinator'), 8)).toBe(false);
  });
});
