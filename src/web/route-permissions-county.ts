/** The permission table's part for the county view. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const COUNTY_ROUTES: readonly RoutePermission[] = [];
