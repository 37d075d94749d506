/**
 * Who may see and manage a partnership's evidence: police.uk trends, local incident counts,
 * DEFRA's fly-tipping figures and the Community Trigger's annual figures.
 */
import { isMember, type Member } from './permissions.js';

/** Every member reads the evidence (the board included: it asks for "the numbers and other data"). */
export function canReadEvidence(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId);
}

/** The coordinator brings the evidence in and sets it up (files, the area, links, settings). */
export function canManageEvidence(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId) && member.role === 'coordinator';
}
