/** The permission table's part for the quarter’s board report (HTML, DOCX, PDF). See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const BOARD_REPORT_ROUTES: readonly RoutePermission[] = [];
