import { describe, expect, it } from 'vitest';
import { addedLabel, compareAimNumbers, isAimNumber, nextAimNumber } from '../../src/domain/numbering.js';

describe('aim numbers', () => {
  it('are section.number', () => {
    expect(isAimNumber('4.0')).toBe(true);
    expect(isAimNumber('5.10')).toBe(true);
    expect(isAimNumber('4.4.')).toBe(false);
    expect(isAimNumber('a.1')).toBe(false);
  });

  it('sort numerically within a section', () => {
    expect(['5.10', '5.2', '4.4', '5.9'].sort(compareAimNumbers)).toEqual(['4.4', '5.2', '5.9', '5.10']);
  });

  it('the next number follows the highest in its section', () => {
    expect(nextAimNumber(5, ['5.0', '5.7', '4.9'])).toBe('5.8');
    expect(nextAimNumber(6, ['5.7'])).toBe('6.1');
  });

  it('an added aim says the month and year it was added, in London', () => {
    expect(addedLabel('2024-08-01')).toBe('Added August 2024');
    expect(addedLabel(null)).toBeUndefined();
    expect(addedLabel('not a date')).toBeUndefined();
  });
});
