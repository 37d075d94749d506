/** The permission table's part for evidence: fly-tipping and graffiti counts from a council CSV, and DEFRA's fly-tipping table. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const LOCAL_INCIDENT_ROUTES: readonly RoutePermission[] = [];
