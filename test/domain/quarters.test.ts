import { describe, expect, it } from 'vitest';
import {
  isPlanYear,
  parsePlanYear,
  parseQuarter,
  planYearDates,
  planYearOfDate,
  quarterOfDate,
} from '../../src/domain/quarters.js';

describe('plan years', () => {
  it('accepts consecutive years only', () => {
    expect(isPlanYear('2024/25')).toBe(true);
    expect(isPlanYear('1999/00')).toBe(true);
    expect(isPlanYear('2024/26')).toBe(false);
    expect(isPlanYear('2024-25')).toBe(false);
    expect(parsePlanYear('2024-25')).toBe('2024/25');
    expect(parsePlanYear('2024/2025')).toBeUndefined();
  });

  it('runs from 1 April to 31 March', () => {
    expect(planYearDates('2024/25')).toEqual({ startsOn: '2024-04-01', endsOn: '2025-03-31' });
    expect(planYearOfDate(new Date('2025-03-31T12:00:00Z'))).toBe('2024/25');
    expect(planYearOfDate(new Date('2025-04-01T12:00:00Z'))).toBe('2025/26');
  });
});

describe('quarters', () => {
  it('Q1 is April to June and Q4 January to March', () => {
    expect(quarterOfDate('2024/25', new Date('2024-04-01T00:00:00Z'))).toBe(1);
    expect(quarterOfDate('2024/25', new Date('2024-06-30T12:00:00Z'))).toBe(1);
    expect(quarterOfDate('2024/25', new Date('2024-07-01T12:00:00Z'))).toBe(2);
    expect(quarterOfDate('2024/25', new Date('2024-12-31T12:00:00Z'))).toBe(3);
    expect(quarterOfDate('2024/25', new Date('2025-01-15T12:00:00Z'))).toBe(4);
    expect(quarterOfDate('2024/25', new Date('2025-04-01T12:00:00Z'))).toBeUndefined();
    expect(quarterOfDate('2024/25', new Date('2024-03-31T12:00:00Z'))).toBeUndefined();
  });

  it('reads Q3, q3 and 3, and nothing else', () => {
    expect(parseQuarter('Q3')).toBe(3);
    expect(parseQuarter(' q3 ')).toBe(3);
    expect(parseQuarter('3')).toBe(3);
    expect(parseQuarter('Q5')).toBeUndefined();
    expect(parseQuarter('Q')).toBeUndefined();
  });
});
