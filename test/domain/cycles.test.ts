import { describe, expect, it } from 'vitest';
import {
  addDays,
  awaitsSubmission,
  cyclePhase,
  dueReminderOffsets,
  isIsoDate,
  isLate,
  londonDate,
  londonHour,
  offsetLabel,
  parseReminderOffsets,
  requestRecipients,
  submissionState,
} from '../../src/domain/cycles.js';

const cycle = (over: Partial<Parameters<typeof dueReminderOffsets>[0]> = {}) => ({
  dueOn: '2025-04-14',
  reminderOffsets: [-7, 1, 7],
  openedAt: new Date('2025-03-20T10:00:00Z'),
  closedAt: null,
  ...over,
});

describe('days in Europe/London', () => {
  it('reads the London calendar day and hour, across summer time', () => {
    // 23:30 UTC on 6 April is 00:30 on 7 April in British Summer Time…
    expect(londonDate(new Date('2025-04-06T23:30:00Z'))).toBe('2025-04-07');
    expect(londonHour(new Date('2025-04-06T23:30:00Z'))).toBe(0);
    // …but the same time in January is still the 6th, in GMT.
    expect(londonDate(new Date('2025-01-06T23:30:00Z'))).toBe('2025-01-06');
    expect(londonHour(new Date('2025-01-06T23:30:00Z'))).toBe(23);
  });

  it('adds days across month and year ends, and knows a real date', () => {
    expect(addDays('2025-03-31', 1)).toBe('2025-04-01');
    expect(addDays('2024-12-25', 7)).toBe('2025-01-01');
    expect(addDays('2025-04-14', -7)).toBe('2025-04-07');
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2025-02-29')).toBe(false);
    expect(isIsoDate('2025-4-14')).toBe(false);
  });

  it('an update is late from the day after its due date, in London', () => {
    expect(isLate('2025-04-14', new Date('2025-04-14T22:59:00Z'))).toBe(false); // 23:59 BST
    expect(isLate('2025-04-14', new Date('2025-04-14T23:01:00Z'))).toBe(true); // 00:01 on the 15th
  });
});

describe('reminder rounds', () => {
  it('are due from 08:00 London on their day, oldest first, never those already sent', () => {
    expect(dueReminderOffsets(cycle(), [], new Date('2025-04-07T06:30:00Z'))).toEqual([]); // 07:30 BST
    expect(dueReminderOffsets(cycle(), [], new Date('2025-04-07T07:00:00Z'))).toEqual([-7]);
    expect(dueReminderOffsets(cycle(), [], new Date('2025-04-22T12:00:00Z'))).toEqual([-7, 1, 7]);
    expect(dueReminderOffsets(cycle(), [-7, 1], new Date('2025-04-22T12:00:00Z'))).toEqual([7]);
  });

  it('skip a day that came before the quarter was opened, and stop once it is closed', () => {
    const lateOpened = cycle({ openedAt: new Date('2025-04-10T09:00:00Z') });
    expect(dueReminderOffsets(lateOpened, [], new Date('2025-04-15T09:00:00Z'))).toEqual([1]);
    const closed = cycle({ closedAt: new Date('2025-04-16T09:00:00Z') });
    expect(dueReminderOffsets(closed, [], new Date('2025-04-22T09:00:00Z'))).toEqual([]);
  });

  it('read the days typed on the form, and say them in words', () => {
    expect(parseReminderOffsets('-7, 1, 7')).toEqual([-7, 1, 7]);
    expect(parseReminderOffsets(' 7 -7 +1 7 ')).toEqual([-7, 1, 7]);
    expect(parseReminderOffsets('')).toEqual([]);
    expect(parseReminderOffsets('-7, soon')).toBeUndefined();
    expect(parseReminderOffsets('61')).toBeUndefined();
    expect(offsetLabel(-7)).toBe('7 days before the due date');
    expect(offsetLabel(1)).toBe('1 day after the due date');
    expect(offsetLabel(0)).toBe('on the due date');
  });
});

describe('an action on the submission board', () => {
  it('takes its update’s state, or whether it was asked', () => {
    expect(submissionState(false, undefined)).toBe('not_requested');
    expect(submissionState(true, undefined)).toBe('requested');
    expect(submissionState(true, { state: 'returned' })).toBe('returned');
    expect(['requested', 'draft', 'returned'].every((s) => awaitsSubmission(s as never))).toBe(true);
    expect(awaitsSubmission('submitted')).toBe(false);
    expect(awaitsSubmission('not_requested')).toBe(false);
    expect(cyclePhase(undefined)).toBe('not_opened');
    expect(cyclePhase({ closedAt: null })).toBe('open');
    expect(cyclePhase({ closedAt: new Date() })).toBe('closed');
  });

  it('is asked of its named leads with accounts; else of its lead organisation’s lead officers', () => {
    const helen = { userId: 1, role: 'lead_officer', personId: 10, organisationId: 100 };
    const colleague = { userId: 2, role: 'lead_officer', personId: null, organisationId: 100 };
    const partner = { userId: 3, role: 'partner', personId: null, organisationId: 100 };
    const coordinatorNamed = { userId: 4, role: 'coordinator', personId: 11, organisationId: 200 };
    const members = [helen, colleague, partner, coordinatorNamed];
    expect(requestRecipients({ organisationIds: [100], personIds: [10] }, members)).toEqual([1]);
    expect(requestRecipients({ organisationIds: [100], personIds: [99] }, members)).toEqual([1, 2]);
    expect(requestRecipients({ organisationIds: [200], personIds: [11] }, members)).toEqual([4]);
    expect(requestRecipients({ organisationIds: [300], personIds: [] }, members)).toEqual([]);
  });
});
