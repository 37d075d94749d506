/**
 * Who may do what. The service layer asks these questions before every read of internal content
 * and every write; the pages only use them to decide which buttons to show.
 */
export const ROLES = ['coordinator', 'lead_officer', 'partner', 'board_member'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  coordinator: 'Coordinator',
  lead_officer: 'Lead officer',
  partner: 'Partner',
  board_member: 'Board member',
};

/** A signed-in person acting in one partnership. */
export interface Member {
  userId: number;
  name: string;
  partnershipId: number;
  role: Role;
  organisationId: number | null;
  personId: number | null;
  /**
   * The coordinator lets this partner or lead officer (a member of the Joint Action Group) accept
   * and return quarterly updates. Counts for those two roles only.
   */
  reviewsUpdates: boolean;
}

/** Who leads an action: the organisations and named people of its lead parties. */
export interface ActionLeadership {
  partnershipId: number;
  organisationIds: readonly number[];
  personIds: readonly number[];
}

export function isMember(member: Member | undefined, partnershipId: number): member is Member {
  return member !== undefined && member.partnershipId === partnershipId;
}

/** Internal plan content (the live plan, progress, organisations) is for the partnership's members. */
export function canReadPlan(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId);
}

/** Sections, aims and actions: created, edited, reordered and archived by the coordinator. */
export function canEditPlanStructure(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId) && member.role === 'coordinator';
}

/** Progress on an action: the coordinator, or a lead officer who (or whose organisation) leads it. */
export function canUpdateProgress(member: Member | undefined, action: ActionLeadership): boolean {
  if (!isMember(member, action.partnershipId)) return false;
  if (member.role === 'coordinator') return true;
  if (member.role !== 'lead_officer') return false;
  return (
    (member.personId !== null && action.personIds.includes(member.personId)) ||
    (member.organisationId !== null && action.organisationIds.includes(member.organisationId))
  );
}

/**
 * Comments on an aim are the working discussion of the coordinator, lead officers and partners;
 * the board reads the plan and its reports, not the discussion behind them.
 */
export function canReadComments(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId) && member.role !== 'board_member';
}

export function canComment(member: Member | undefined, partnershipId: number): boolean {
  return canReadComments(member, partnershipId);
}

/** A comment is archived (never deleted) by its author, or by the coordinator. */
export function canArchiveComment(
  member: Member | undefined,
  comment: { partnershipId: number; authorUserId: number },
): boolean {
  if (!isMember(member, comment.partnershipId) || member.role === 'board_member') return false;
  return member.role === 'coordinator' || member.userId === comment.authorUserId;
}

/** The whole audit trail (sign-ins, exports, every change) is the coordinator's. */
export function canReadAuditTrail(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId) && member.role === 'coordinator';
}

/**
 * The details of an action (what will be done, partners, resources, expected outcomes): the
 * coordinator, or a lead officer who (or whose organisation) leads it — the same people who record
 * its progress. Who leads an action stays the coordinator's to change.
 */
export function canEditActionDetails(member: Member | undefined, action: ActionLeadership): boolean {
  return canUpdateProgress(member, action);
}

/**
 * Funding lines: the coordinator, any line; a lead officer, lines on the actions they (or their
 * organisation) lead, not lines for an aim as a whole. Every member reads them (canReadPlan).
 * `action` is the leadership of the line's action, or null for a line for the aim as a whole.
 */
export function canManageFunding(
  member: Member | undefined,
  partnershipId: number,
  action: ActionLeadership | null,
): boolean {
  if (!isMember(member, partnershipId)) return false;
  if (member.role === 'coordinator') return true;
  return action !== null && action.partnershipId === partnershipId && canEditActionDetails(member, action);
}

/**
 * Publishing aims on the partnership's public page (and taking them off), and writing the text
 * residents read for a progress update: the coordinator's, who answers for what the public sees.
 */
export function canPublish(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId) && member.role === 'coordinator';
}

/** Opening a quarter for updates, chasing it and closing it: the coordinator's. */
export function canRunQuarterlyCycle(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId) && member.role === 'coordinator';
}

/** The roles the coordinator may make a reviewer of quarterly updates: the JAG's members. */
export const REVIEWER_ROLES: readonly Role[] = ['partner', 'lead_officer'];

/**
 * Accepting a submitted update, or returning it to its lead with a comment (JAG review): the
 * coordinator, or a partner or lead officer the coordinator has made a reviewer. Never the board.
 * Whether a reviewer may review one particular update: see canReviewUpdate.
 */
export function canReviewUpdates(member: Member | undefined, partnershipId: number): boolean {
  if (!isMember(member, partnershipId)) return false;
  return member.role === 'coordinator' || (member.reviewsUpdates && REVIEWER_ROLES.includes(member.role));
}

/**
 * Whether the member leads this action themselves: named as one of its leads, or (as a lead
 * officer) working for an organisation that leads it, so they would write its update.
 */
export function leadsAction(member: Member, action: ActionLeadership): boolean {
  if (member.partnershipId !== action.partnershipId) return false;
  if (member.personId !== null && action.personIds.includes(member.personId)) return true;
  return (
    member.role === 'lead_officer' &&
    member.organisationId !== null &&
    action.organisationIds.includes(member.organisationId)
  );
}

/**
 * Reviewing one action's update. Nobody marks their own homework: a reviewer may not review an
 * update of an action they lead. The coordinator, who answers for the whole plan, reviews any.
 */
export function canReviewUpdate(member: Member | undefined, action: ActionLeadership): boolean {
  if (!canReviewUpdates(member, action.partnershipId)) return false;
  return member!.role === 'coordinator' || !leadsAction(member!, action);
}
