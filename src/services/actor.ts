import type { Member } from '../domain/permissions.js';

/**
 * Who is doing something, for permission checks and the audit trail: a signed-in member,
 * or the command-line tool run by the operator of the server.
 */
export interface Actor {
  userId: number | null;
  label: string;
  /** The member's standing in the partnership acted on; undefined for the system. */
  member: Member | undefined;
  system: boolean;
}

export function memberActor(member: Member): Actor {
  return { userId: member.userId, label: member.name, member, system: false };
}

/** The operator at the command line (import, demo, users add): trusted like the database owner. */
export function systemActor(label = 'command line'): Actor {
  return { userId: null, label, member: undefined, system: true };
}
