/** The permission table's part for evidence: ASB case reviews (the Community Trigger): the register and its annual figures. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const CASE_REVIEW_ROUTES: readonly RoutePermission[] = [];
