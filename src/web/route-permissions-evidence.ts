/** The permission table's part for the evidence hub. See route-permissions.ts. */
import { get, MEMBERS, type RoutePermission } from './route-permission-kit.js';

export const EVIDENCE_ROUTES: readonly RoutePermission[] = [
  get(
    '/p/:slug/evidence',
    'members: links to the crime trends, local incidents and case reviews (the coordinator also to the police.uk upload)',
    MEMBERS,
    () => ({ url: '/p/sosafe/evidence' }),
  ),
];
