/**
 * The words of the permission table (route-permissions.ts): who asks, what they get, the sample
 * requests, and the helpers each area's part of the table is written with.
 */
/**
 * Who is asking: signed out; signed in with one of the demo partnership's roles (the demo
 * accounts: the coordinator, Helen Whitehead the lead officer, a partner, a board member); or
 * an outsider, the coordinator of another partnership, who holds no role in the demo one.
 */
export const AUDIENCES = ['signedOut', 'coordinator', 'lead', 'partner', 'board', 'outsider'] as const;
export type Audience = (typeof AUDIENCES)[number];

/**
 * - ok: served (2xx), or sent on somewhere other than the sign-in page (3xx)
 * - sign-in: sent to the sign-in page (3xx to /sign-in)
 * - signed-out: sent to the sign-in page, and the session is no longer signed in
 * - forbidden: refused (403)
 * - not-found: 404
 * - unauthorized: 401, for the API, which takes a bearer token and never a browser's session
 */
export type Outcome = 'ok' | 'sign-in' | 'signed-out' | 'forbidden' | 'not-found' | 'unauthorized';

export type Expectations = Record<Audience, Outcome>;

/**
 * What the test asks: a path, and for a POST its form (the test adds the session's CSRF token);
 * with `files`, the form is sent as multipart, as a browser sends a form with a file input.
 */
export interface SampleRequest {
  url: string;
  form?: Record<string, string>;
  files?: Record<string, { filename: string; content: Buffer | Uint8Array; contentType?: string }>;
}

/**
 * Real values from the demo partnership (SoSafe's 2024/25 plan), and throwaway rows made for
 * one request, so that a write that succeeds changes nothing another check relies on.
 */
export interface SampleContext {
  /** The demo plan's address, /p/sosafe/plans/2024-25. */
  plan: string;
  /** The demo accounts' password. */
  demoPassword: string;
  /** A demo section's id by its number. */
  sectionId(number: number): Promise<number>;
  /** The id of the place-th action (from 1) of a demo aim: actionId('3.1', 1). */
  actionId(aim: string, place: number): Promise<number>;
  /** A demo organisation's id by its short name, e.g. 'CCSU'. */
  organisationId(name: string): Promise<number>;
  /** A section number no live section has. */
  freeSectionNumber(): number;
  /** A new section of the demo plan, made for this request. */
  newSection(): Promise<{ id: number; number: number; version: number }>;
  /** A new aim (in a section kept for such aims), made for this request. */
  newAim(): Promise<{ id: number; number: string; version: number }>;
  /** A demo priority's id by its title, e.g. 'Fraud'. */
  priorityId(title: string): Promise<number>;
  /** A new priority of the demo plan, made for this request. */
  newPriority(): Promise<{ id: number; version: number }>;
  /** The crime-type links form's basis (fingerprint of the links in force) for the demo partnership now. */
  priorityLinksBasis(): Promise<string>;
  /**
   * Makes sure a quarter of the demo plan is open for updates (due the 14th after it ends), or
   * opened and closed, whatever ran before.
   */
  quarter(quarter: 1 | 2 | 3 | 4, phase: 'open' | 'closed'): Promise<void>;
  /** A new action with these leads in the form's words (default: none), made for this request. */
  newAction(leads?: string): Promise<{ id: number; version: number }>;
  /** A new comment on a demo aim by one of the demo accounts. */
  newComment(
    aim: string,
    author: 'coordinator' | 'lead' | 'partner',
  ): Promise<{ id: number; version: number }>;
  /** The membership id of a demo account in the demo partnership. */
  membershipId(account: 'coordinator' | 'lead' | 'partner' | 'board'): Promise<number>;
  /** A new account with a role in the demo partnership; deactivated there if asked. */
  newMember(options?: { deactivated?: boolean }): Promise<{ id: number; version: number }>;
  /** A new pending invitation to the demo partnership, for an address with no account. */
  newInvitation(): Promise<{ id: number; token: string }>;
  /** A new account with a password reset link just sent to it. */
  newPasswordReset(): Promise<{ token: string }>;
  /** A new email address, with no account. */
  newEmail(): string;
  /** A new API token of the demo partnership, issued by its coordinator for this request. */
  newApiToken(): Promise<{ id: number }>;
  /**
   * A new funding line (applied for, £100) on a new action with these leads in the form's words
   * (default: none), made for this request; with the number of the action's aim.
   */
  newFundingLine(
    leads?: string,
  ): Promise<{ id: number; version: number; aimNumber: string; actionId: number }>;
  /**
   * A pending spreadsheet upload to the demo plan by its coordinator: the plan's CSV export as it
   * is, so confirming it changes nothing; with the fingerprint of its preview.
   */
  newPlanSheetUpload(): Promise<{ id: number; fingerprint: string }>;
  /** A small Word plan (one section, one aim of the demo plan) as a DOCX. */
  wordPlanDocx(): Promise<Buffer>;
  /**
   * A pending Word plan upload by the demo coordinator: the small Word plan, set to a plan year of
   * its own before 2024/25, so that saving it adds a small plan no other check uses.
   */
  newWordUpload(): Promise<{ id: number; year: string }>;
  /** A new aim (as newAim), published on the public page, made for this request. */
  newPublishedAim(): Promise<{ id: number; number: string; version: number }>;
  /** A new submitted progress update (Q3, on track) on a new action, made for this request. */
  newProgressUpdate(): Promise<{ id: number; version: number; aimNumber: string }>;
  /**
   * A new Community Trigger application (threshold met, review held, one recommendation), with
   * Helen Whitehead (the demo lead officer) as its case officer, or with none; made for this request.
   */
  newCaseReview(
    officer: 'lead' | 'none',
  ): Promise<{ id: number; version: number; recommendationId: number; recommendationVersion: number }>;
  /** The version of the demo partnership's case review settings, for the settings form. */
  caseReviewSettingsVersion(): Promise<number>;
  /**
   * A police.uk file (the first rows of the real street file) uploaded by the demo coordinator and
   * imported (done) before this returns.
   */
  newPoliceUkImport(): Promise<{ id: number }>;
}

export interface RouteCase {
  /** What this case tries, when a route has more than one. */
  what?: string;
  sample(ctx: SampleContext): SampleRequest | Promise<SampleRequest>;
  expect: Expectations;
  /** The request starts, replaces or ends a session: make it in a new session of that audience. */
  ownSession?: boolean;
  /**
   * The request changes the account itself (its password, all its sessions): make it as a new
   * account with the audience's role, in a session of its own.
   */
  ownAccount?: boolean;
}

export interface RoutePermission {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The URL pattern exactly as registered, e.g. /p/:slug/plans/:year/aims/:number. */
  url: string;
  /** Who may, in words. */
  rule: string;
  cases: RouteCase[];
}

export const outcomes = (
  signedOut: Outcome,
  coordinator: Outcome,
  lead: Outcome,
  partner: Outcome,
  board: Outcome,
  outsider: Outcome,
): Expectations => ({ signedOut, coordinator, lead, partner, board, outsider });

/** Anyone, signed in or not. */
export const PUBLIC = outcomes('ok', 'ok', 'ok', 'ok', 'ok', 'ok');
/** Anyone signed in; a signed-out reader is sent to sign in. */
export const SIGNED_IN = outcomes('sign-in', 'ok', 'ok', 'ok', 'ok', 'ok');
/** The partnership's members; a signed-out reader is sent to sign in. */
export const MEMBERS = outcomes('sign-in', 'ok', 'ok', 'ok', 'ok', 'forbidden');
/** A coordinator's page; a signed-out reader is sent to sign in. */
export const COORDINATOR_PAGE = outcomes('sign-in', 'ok', 'forbidden', 'forbidden', 'forbidden', 'forbidden');
/**
 * A coordinator's form submission. Signed out it is refused rather than redirected: a POST cannot
 * be replayed after signing in (and without a session its CSRF token could not be valid anyway).
 */
export const COORDINATOR_WRITE = outcomes(
  'forbidden',
  'ok',
  'forbidden',
  'forbidden',
  'forbidden',
  'forbidden',
);
/** Progress on an action Helen Whitehead (the demo lead officer) leads. */
export const PROGRESS_PAGE_OWN = outcomes('sign-in', 'ok', 'ok', 'forbidden', 'forbidden', 'forbidden');
export const PROGRESS_WRITE_OWN = outcomes('forbidden', 'ok', 'ok', 'forbidden', 'forbidden', 'forbidden');
/**
 * "Your Q4 updates", the one page with every action a person leads: lead officers and the
 * coordinator (one who leads nothing is told so); partners and the board send no updates.
 */
export const UPDATERS_PAGE = outcomes('sign-in', 'ok', 'ok', 'forbidden', 'forbidden', 'forbidden');
export const UPDATERS_WRITE = outcomes('forbidden', 'ok', 'ok', 'forbidden', 'forbidden', 'forbidden');
/** Progress on an action someone else leads. */
export const PROGRESS_PAGE_OTHER = COORDINATOR_PAGE;
export const PROGRESS_WRITE_OTHER = COORDINATOR_WRITE;
/**
 * Something that does not exist in the partnership, asked for by its members. Anyone else learns
 * nothing more: sent to sign in, or refused as for anything else in it.
 */
export const MISSING_FOR_MEMBERS = outcomes(
  'sign-in',
  'not-found',
  'not-found',
  'not-found',
  'not-found',
  'forbidden',
);
/** Comments on an aim: the coordinator, lead officers and partners; not the board. */
export const COMMENTERS_PAGE = outcomes('sign-in', 'ok', 'ok', 'ok', 'forbidden', 'forbidden');
export const COMMENTERS_WRITE = outcomes('forbidden', 'ok', 'ok', 'ok', 'forbidden', 'forbidden');
/** Your own account: anyone signed in. A signed-out POST is refused. */
export const SIGNED_IN_WRITE = outcomes('forbidden', 'ok', 'ok', 'ok', 'ok', 'ok');
/**
 * The read-only API: a bearer token or nothing. A browser's session, whoever is signed in, is
 * not a token (test/web/api.test.ts covers the tokens: missing, bad, revoked, another partnership's).
 */
export const BEARER_TOKEN = outcomes(
  'unauthorized',
  'unauthorized',
  'unauthorized',
  'unauthorized',
  'unauthorized',
  'unauthorized',
);
/** Nobody: it does not exist. */
export const NOT_FOUND = outcomes(
  'not-found',
  'not-found',
  'not-found',
  'not-found',
  'not-found',
  'not-found',
);

export const get = (
  url: string,
  rule: string,
  expect: Expectations,
  sample: RouteCase['sample'],
  more: RouteCase[] = [],
): RoutePermission => ({ method: 'GET', url, rule, cases: [{ sample, expect }, ...more] });

export const post = (
  url: string,
  rule: string,
  expect: Expectations,
  sample: RouteCase['sample'],
  more: RouteCase[] = [],
): RoutePermission => ({ method: 'POST', url, rule, cases: [{ sample, expect }, ...more] });

export const PLAN = '/p/:slug/plans/:year';
