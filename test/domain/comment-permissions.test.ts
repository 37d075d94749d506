import { describe, expect, it } from 'vitest';
import {
  canArchiveComment,
  canComment,
  canReadAuditTrail,
  canReadComments,
  ROLES,
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

describe('comments', () => {
  it('the coordinator, lead officers and partners read and add them; the board does not', () => {
    for (const role of ['coordinator', 'lead_officer', 'partner'] as const) {
      expect(canReadComments(member(role), 10)).toBe(true);
      expect(canComment(member(role), 10)).toBe(true);
    }
    expect(canReadComments(member('board_member'), 10)).toBe(false);
    expect(canComment(member('board_member'), 10)).toBe(false);
  });

  it('nobody outside the partnership, and nobody signed out, reads or adds them', () => {
    for (const role of ROLES) {
      expect(canReadComments(member(role), 11)).toBe(false);
      expect(canComment(member(role), 11)).toBe(false);
    }
    expect(canReadComments(undefined, 10)).toBe(false);
    expect(canComment(undefined, 10)).toBe(false);
  });

  it('the author archives their own comment; the coordinator archives any', () => {
    const comment = { partnershipId: 10, authorUserId: 1 };
    const someoneElses = { partnershipId: 10, authorUserId: 2 };
    expect(canArchiveComment(member('partner'), comment)).toBe(true);
    expect(canArchiveComment(member('lead_officer'), comment)).toBe(true);
    expect(canArchiveComment(member('partner'), someoneElses)).toBe(false);
    expect(canArchiveComment(member('lead_officer'), someoneElses)).toBe(false);
    expect(canArchiveComment(member('coordinator'), someoneElses)).toBe(true);
    // A board member cannot see comments, so cannot archive one, not even by their own id.
    expect(canArchiveComment(member('board_member'), comment)).toBe(false);
    // The coordinator of another partnership cannot.
    expect(canArchiveComment(member('coordinator', { partnershipId: 11 }), someoneElses)).toBe(false);
    expect(canArchiveComment(undefined, comment)).toBe(false);
  });
});

describe('the audit trail', () => {
  it('is the coordinator’s alone', () => {
    expect(canReadAuditTrail(member('coordinator'), 10)).toBe(true);
    expect(canReadAuditTrail(member('coordinator'), 11)).toBe(false);
    for (const role of ['lead_officer', 'partner', 'board_member'] as const) {
      expect(canReadAuditTrail(member(role), 10)).toBe(false);
    }
    expect(canReadAuditTrail(undefined, 10)).toBe(false);
  });
});
