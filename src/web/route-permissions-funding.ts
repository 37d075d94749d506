/** The permission table's part for funding lines and the PCC’s half-year budget report. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const FUNDING_ROUTES: readonly RoutePermission[] = [];
