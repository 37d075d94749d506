/** The permission table's part for the plan as a spreadsheet (XLSX, CSV): export, and import with a preview. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const PLAN_SHEET_ROUTES: readonly RoutePermission[] = [];
