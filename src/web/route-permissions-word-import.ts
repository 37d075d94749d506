/** The permission table's part for importing a Word action plan, with a preview to correct. See route-permissions.ts. */
import type { RoutePermission } from './route-permission-kit.js';

export const WORD_IMPORT_ROUTES: readonly RoutePermission[] = [];
