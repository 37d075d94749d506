/** The permission table's part for evidence: police.uk files uploaded on the web and imported with progress. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const POLICE_UPLOAD_ROUTES: readonly RoutePermission[] = [];
