/** The permission table's part for the partnership dashboard. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const DASHBOARD_ROUTES: readonly RoutePermission[] = [];
