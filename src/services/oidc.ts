/**
 * Single sign-on with OpenID Connect (e.g. Microsoft Entra ID): the authorization code flow with
 * PKCE, state and nonce, and the mapping of the identity the provider vouches for to an account.
 *
 * An identity maps by email address to an existing, active account with an active membership, or
 * to a pending invitation for that address (accepted here: the account is made without a
 * password). On first use the provider's (issuer, subject) is linked to the account; from then on
 * only that subject signs in to it, so a second identity claiming the same address is refused.
 */
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import * as client from 'openid-client';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { ROLE_LABELS } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import type { SignedInUser } from './users.js';

export interface SingleSignOnSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The button's words on the sign-in page. */
  label: string;
  /** The address people reach the service at; the callback URL is built from it. */
  publicUrl?: string | undefined;
}

/** Where the provider sends people back to; register `<PUBLIC_URL>` + this at the provider. */
export const SSO_CALLBACK_PATH = '/sign-in/sso/callback';

const SCOPE = 'openid email profile';
/** Seconds to wait for the provider's discovery document and token endpoint. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** What the web layer keeps in the person's session between the redirect and the callback. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

/** The provider cannot be reached (discovery or token request failed on the network). */
export class SsoUnavailableError extends Error {}

/** The provider's answer cannot be accepted: wrong or missing state, a refused code, an error. */
export class SsoResponseError extends Error {
  constructor(
    message: string,
    /** The provider's own error code when it sent one (e.g. access_denied). */
    readonly providerError?: string,
  ) {
    super(message);
  }
}

export type SsoOutcome =
  | { kind: 'signed-in'; user: SignedInUser; firstUse: boolean }
  | { kind: 'refused'; reason: 'no-account' | 'other-identity'; email: string }
  | { kind: 'refused'; reason: 'no-email' };

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The email address in the ID token: `email`, unless the provider says it is unverified; else
 * Entra ID's `preferred_username` or `upn` when it is an address. Lower-cased.
 */
export function emailFromClaims(claims: Record<string, unknown>): string | undefined {
  const candidates = [
    claims.email_verified === false ? undefined : claims.email,
    claims.preferred_username,
    claims.upn,
  ];
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const email = candidate.trim().toLowerCase();
    if (EMAIL_PATTERN.test(email)) return email;
  }
  return undefined;
}

function isLoopback(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

export class SingleSignOn {
  readonly label: string;
  private readonly issuer: URL;
  private configuration: Promise<client.Configuration> | undefined;

  constructor(
    private readonly db: Db,
    private readonly settings: SingleSignOnSettings,
  ) {
    this.label = settings.label;
    this.issuer = new URL(settings.issuer);
    if (
      this.issuer.protocol !== 'https:' &&
      !(this.issuer.protocol === 'http:' && isLoopback(this.issuer.hostname))
    ) {
      throw new Error('OIDC_ISSUER must be an https:// address (http:// is allowed only on localhost)');
    }
  }

  /** The provider's metadata, fetched once; a failure is not kept, so the next sign-in tries again. */
  private discover(): Promise<client.Configuration> {
    this.configuration ??= client
      .discovery(this.issuer, this.settings.clientId, this.settings.clientSecret, undefined, {
        // Plain HTTP only for a provider on this machine (the tests' provider).
        execute: this.issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
        timeout: PROVIDER_TIMEOUT_SECONDS,
      })
      .catch((error: unknown) => {
        this.configuration = undefined;
        throw new SsoUnavailableError(
          `Could not read the OpenID Connect configuration of ${this.issuer.href}: ${describe(error)}`,
          { cause: error },
        );
      });
    return this.configuration;
  }

  private redirectUri(requestOrigin: string): string {
    return new URL(SSO_CALLBACK_PATH, this.settings.publicUrl ?? requestOrigin).href;
  }

  /**
   * Starts a sign-in: the provider's address to send the person to, and what to keep in their
   * session for the callback. `requestOrigin` is used only when PUBLIC_URL is not set.
   */
  async start(requestOrigin: string): Promise<{ url: string; pending: PendingSignIn }> {
    const configuration = await this.discover();
    const codeVerifier = client.randomPKCECodeVerifier();
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier,
      redirectUri: this.redirectUri(requestOrigin),
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: pending.redirectUri,
      scope: SCOPE,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /**
   * Completes a sign-in from the callback's query string (`?code=…&state=…`): checks state,
   * exchanges the code with the PKCE verifier, checks the ID token's nonce, and maps the identity.
   */
  async finish(pending: PendingSignIn, query: string): Promise<SsoOutcome> {
    const configuration = await this.discover();
    const currentUrl = new URL(pending.redirectUri);
    currentUrl.search = query;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof client.AuthorizationResponseError) {
        throw new SsoResponseError(`The provider refused the sign-in: ${error.error}`, error.error);
      }
      if (error instanceof client.ResponseBodyError) {
        throw new SsoResponseError(`The provider refused the code: ${error.error}`, error.error);
      }
      if (error instanceof client.ClientError) {
        throw new SsoResponseError(`The provider's answer was not accepted: ${error.message}`);
      }
      throw new SsoUnavailableError(`Could not complete the sign-in with the provider: ${describe(error)}`, {
        cause: error,
      });
    }
    const claims = tokens.claims();
    if (!claims) throw new SsoResponseError('The provider sent no ID token');
    const email = emailFromClaims(claims);
    if (!email) return { kind: 'refused', reason: 'no-email' };
    return signInWithIdentity(this.db, {
      issuer: configuration.serverMetadata().issuer,
      subject: claims.sub,
      email,
    });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

export interface ProviderIdentity {
  issuer: string;
  subject: string;
  /** Lower-cased. */
  email: string;
}

/**
 * Maps an identity the provider vouched for to an account, accepting pending invitations for its
 * address, linking (issuer, subject) on first use, and recording the sign-in. Nothing is written
 * when the sign-in is refused.
 */
export async function signInWithIdentity(db: Db, identity: ProviderIdentity): Promise<SsoOutcome> {
  const { issuer, subject, email } = identity;
  return db.transaction(async (tx) => {
    const [linked] = await tx
      .select({ userId: t.userIdentities.userId })
      .from(t.userIdentities)
      .where(and(eq(t.userIdentities.issuer, issuer), eq(t.userIdentities.subject, subject)));
    // Locked, so two first sign-ins to one account cannot link two subjects at once.
    const [existing] = await tx
      .select()
      .from(t.users)
      .where(linked ? eq(t.users.id, linked.userId) : eq(t.users.email, email))
      .for('update');
    if (existing?.deactivatedAt) return { kind: 'refused', reason: 'no-account', email };

    const address = existing?.email ?? email;
    const invitations = await pendingInvitations(tx, address);
    const active = existing ? await activePartnerships(tx, existing.id) : [];
    if (active.length === 0 && invitations.length === 0)
      return { kind: 'refused', reason: 'no-account', email };

    if (existing && !linked) {
      const [other] = await tx
        .select({ id: t.userIdentities.id })
        .from(t.userIdentities)
        .where(and(eq(t.userIdentities.userId, existing.id), eq(t.userIdentities.issuer, issuer)));
      if (other) return { kind: 'refused', reason: 'other-identity', email };
    }

    let user: SignedInUser;
    if (existing) {
      user = { id: existing.id, email: existing.email, name: existing.name };
    } else {
      // Only reached with an invitation: the newest one names the person.
      const [row] = await tx
        .insert(t.users)
        .values({ email, name: invitations.at(-1)!.name, passwordHash: null })
        .returning({ id: t.users.id, email: t.users.email, name: t.users.name });
      user = row!;
    }
    const actor: Actor = { userId: user.id, label: user.name, member: undefined, system: false };

    if (!linked) await tx.insert(t.userIdentities).values({ userId: user.id, issuer, subject });
    for (const invitation of invitations) await acceptInvitation(tx, actor, user, invitation, !existing);

    for (const partnershipId of await activePartnerships(tx, user.id)) {
      await recordAudit(tx, actor, {
        partnershipId,
        kind: 'user.signed_in',
        entity: 'user',
        entityId: user.id,
        summary: `${user.name} signed in with single sign-on`,
        after: { method: 'single sign-on', issuer, firstUse: !linked },
      });
    }
    return { kind: 'signed-in', user, firstUse: !linked };
  });
}

type Invitation = typeof t.invitations.$inferSelect;

/** Unexpired, unrevoked, unaccepted invitations for an address, oldest first (the newest wins). */
async function pendingInvitations(tx: Tx, email: string): Promise<Invitation[]> {
  return tx
    .select()
    .from(t.invitations)
    .where(
      and(
        sql`lower(${t.invitations.email}) = ${email.toLowerCase()}`,
        isNull(t.invitations.acceptedAt),
        isNull(t.invitations.revokedAt),
        gt(t.invitations.expiresAt, new Date()),
      ),
    )
    .orderBy(asc(t.invitations.createdAt), asc(t.invitations.id));
}

async function activePartnerships(tx: Tx, userId: number): Promise<number[]> {
  const rows = await tx
    .select({ partnershipId: t.memberships.partnershipId })
    .from(t.memberships)
    .where(and(eq(t.memberships.userId, userId), isNull(t.memberships.deactivatedAt)));
  return rows.map((r) => r.partnershipId);
}

/**
 * Gives the person the invited role, as accepting the invitation's link does (accounts.ts): a new
 * membership, or the partnership's existing one set to the invited role and made active again.
 */
async function acceptInvitation(
  tx: Tx,
  actor: Actor,
  user: SignedInUser,
  invitation: Invitation,
  newAccount: boolean,
) {
  const role = {
    role: invitation.role,
    organisationId: invitation.organisationId,
    personId: invitation.personId,
  };
  await tx
    .insert(t.memberships)
    .values({ partnershipId: invitation.partnershipId, userId: user.id, ...role })
    .onConflictDoUpdate({
      target: [t.memberships.userId, t.memberships.partnershipId],
      set: {
        ...role,
        reviewsUpdates: false,
        deactivatedAt: null,
        version: sql`${t.memberships.version} + 1`,
      },
    });
  await tx.update(t.invitations).set({ acceptedAt: new Date() }).where(eq(t.invitations.id, invitation.id));
  await recordAudit(tx, actor, {
    partnershipId: invitation.partnershipId,
    kind: 'invitation.accepted',
    entity: 'invitation',
    entityId: invitation.id,
    summary: `${user.name} <${user.email}> accepted the invitation with single sign-on and joined as ${ROLE_LABELS[invitation.role].toLowerCase()}${newAccount ? ' (new account)' : ''}`,
    after: { userId: user.id, role: invitation.role, newAccount, method: 'single sign-on' },
  });
}
