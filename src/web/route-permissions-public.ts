/** The permission table's part for the public page and publishing aims. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const PUBLIC_PAGE_ROUTES: readonly RoutePermission[] = [];
