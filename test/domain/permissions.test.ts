import { describe, expect, it } from 'vitest';
import {
  canEditPlanStructure,
  canReadPlan,
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
});
