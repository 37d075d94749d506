/** What a partnership's page needs to know about the request: the partnership and who is acting. */
import type { FastifyRequest } from 'fastify';
import type { Member } from '../domain/permissions.js';
import type { Actor } from '../services/actor.js';
import type { Services } from '../services/index.js';
import type { PartnershipRow } from '../services/plan-read.js';

export interface RequestContext {
  partnership: PartnershipRow;
  member: Member | undefined;
  actor: Actor;
}

export async function partnershipContext(
  services: Services,
  request: FastifyRequest,
  slug: string,
  /**
   * The read stamp (services/read-cache.ts): the page's by default. With one, the partnership and
   * member are read under the request's membership stamp instead, which changes only with them.
   */
  stamp = request.readStamp,
): Promise<RequestContext> {
  const { partnership, member } = await services.users.getPartnershipMember(
    slug,
    request.user?.id,
    stamp === undefined ? undefined : (request.membershipStamp ?? stamp),
  );
  const actor: Actor = member
    ? services.memberActor(member)
    : {
        userId: request.user?.id ?? null,
        label: request.user?.name ?? 'signed out',
        member: undefined,
        system: false,
      };
  return { partnership, member, actor };
}
