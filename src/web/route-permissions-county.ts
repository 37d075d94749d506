/** The permission table's part for the county view. See route-permissions.ts. */
import { get, SIGNED_IN, type RoutePermission } from './route-permission-kit.js';

export const COUNTY_ROUTES: readonly RoutePermission[] = [
  get(
    '/county',
    'anyone signed in: the partnerships they themselves hold roles in, side by side (one alone with a note)',
    SIGNED_IN,
    () => ({ url: '/county' }),
  ),
];
