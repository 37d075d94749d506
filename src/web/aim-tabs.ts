/**
 * An aim's sub-navigation: "Actions and progress", "Comments (n)" and "History" are three pages
 * with their own addresses, linked from a partial (views/partials/aim-tabs.njk), not script tabs.
 */
import type { Actor } from '../services/actor.js';
import type { Services } from '../services/index.js';

export type AimTab = 'actions' | 'comments' | 'history';

export interface AimTabs {
  aimTab: AimTab;
  /** Null for readers who may not see comments: the board has no Comments link. */
  commentCount: number | null;
}

export async function aimTabs(
  services: Services,
  actor: Actor,
  aimId: number,
  current: AimTab,
  /** The request's read stamp (services/read-cache.ts), on pages. */
  stamp?: string,
): Promise<AimTabs> {
  const commentCount = await services.comments.count(actor, aimId, stamp);
  return { aimTab: current, commentCount: commentCount ?? null };
}
