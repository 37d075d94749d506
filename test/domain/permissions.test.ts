import { describe, expect, it } from 'vitest';
import {
  canEditPlanStructure,
  canPublish,
  canReadPlan,
  canReviewUpdate,
  canReviewUpdates,
  canRunQuarterlyCycle,
  canUpdateProgress,
  type Member,
  type Role,
} from '../../src/domain/permissions.js';

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

describe('permissions', () => {
  it('members of the partnership read its plan; others do not', () => {
    for (const role of ['coordinator', 'lead_officer', 'partner', 'board_member'] as const) {
      expect(canReadPlan(member(role), 10)).toBe(true);
      expect(canReadPlan(member(role), 11)).toBe(false);
    }
    expect(canReadPlan(undefined, 10)).toBe(false);
  });

  it('only the coordinator changes the structure', () => {
    expect(canEditPlanStructure(member('coordinator'), 10)).toBe(true);
    expect(canEditPlanStructure(member('coordinator'), 11)).toBe(false);
    expect(canEditPlanStructure(member('lead_officer'), 10)).toBe(false);
    expect(canEditPlanStructure(member('partner'), 10)).toBe(false);
  });

  it('a lead officer records progress on actions they or their organisation lead', () => {
    expect(canUpdateProgress(member('lead_officer', { personId: 7 }), action)).toBe(true);
    expect(canUpdateProgress(member('lead_officer', { organisationId: 3 }), action)).toBe(true);
    expect(canUpdateProgress(member('lead_officer', { organisationId: 4, personId: 8 }), action)).toBe(false);
    expect(canUpdateProgress(member('lead_officer', { personId: 7, partnershipId: 11 }), action)).toBe(false);
    expect(canUpdateProgress(member('partner', { organisationId: 3 }), action)).toBe(false);
    expect(canUpdateProgress(member('board_member', { personId: 7 }), action)).toBe(false);
    expect(canUpdateProgress(member('coordinator'), action)).toBe(true);
  });

  it('JAG review: the coordinator, and partners and lead officers the coordinator made reviewers', () => {
    expect(canReviewUpdates(member('coordinator'), 10)).toBe(true);
    expect(canReviewUpdates(member('partner', { reviewsUpdates: true }), 10)).toBe(true);
    expect(canReviewUpdates(member('lead_officer', { reviewsUpdates: true }), 10)).toBe(true);
    expect(canReviewUpdates(member('partner'), 10)).toBe(false);
    expect(canReviewUpdates(member('lead_officer'), 10)).toBe(false);
    // The board reads the report; it never reviews, whatever the flag says.
    expect(canReviewUpdates(member('board_member', { reviewsUpdates: true }), 10)).toBe(false);
    expect(canReviewUpdates(member('partner', { reviewsUpdates: true }), 11)).toBe(false);
    expect(canReviewUpdates(undefined, 10)).toBe(false);
    // Reviewing is not running the cycle: opening and closing quarters stay the coordinator's.
    expect(canRunQuarterlyCycle(member('partner', { reviewsUpdates: true }), 10)).toBe(false);
    expect(canRunQuarterlyCycle(member('coordinator'), 10)).toBe(true);
  });

  it('a reviewer never reviews an update of an action they lead; the coordinator reviews any', () => {
    const reviewer = (role: Role, extra: Partial<Member> = {}) =>
      member(role, { reviewsUpdates: true, ...extra });
    expect(canReviewUpdate(reviewer('partner'), action)).toBe(true);
    expect(canReviewUpdate(reviewer('partner', { personId: 7 }), action)).toBe(false);
    // A partner does not write their organisation's updates, so its actions are not their own.
    expect(canReviewUpdate(reviewer('partner', { organisationId: 3 }), action)).toBe(true);
    expect(canReviewUpdate(reviewer('lead_officer', { personId: 8, organisationId: 4 }), action)).toBe(true);
    expect(canReviewUpdate(reviewer('lead_officer', { personId: 7 }), action)).toBe(false);
    expect(canReviewUpdate(reviewer('lead_officer', { organisationId: 3 }), action)).toBe(false);
    expect(canReviewUpdate(member('partner'), action)).toBe(false);
    expect(canReviewUpdate(member('coordinator', { personId: 7, organisationId: 3 }), action)).toBe(true);
    expect(canReviewUpdate(reviewer('partner', { partnershipId: 11 }), action)).toBe(false);
  });

  it('only the coordinator publishes aims and writes what residents read', () => {
    expect(canPublish(member('coordinator'), 10)).toBe(true);
    expect(canPublish(member('coordinator'), 11)).toBe(false);
    expect(canPublish(member('lead_officer', { personId: 7, organisationId: 3 }), 10)).toBe(false);
    expect(canPublish(member('partner', { reviewsUpdates: true }), 10)).toBe(false);
    expect(canPublish(member('board_member'), 10)).toBe(false);
    expect(canPublish(undefined, 10)).toBe(false);
  });
});
