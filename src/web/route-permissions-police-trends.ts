/** The permission table's part for evidence: police.uk trends for a partnership's area, priority links, the area itself. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const POLICE_TREND_ROUTES: readonly RoutePermission[] = [];
