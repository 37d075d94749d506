/**
 * A real OpenID provider (oidc-provider) on 127.0.0.1 for the single sign-on tests, with one
 * client (PKCE required) and its built-in development login and consent pages: the login form
 * takes any subject and any password, and `accounts` says which email each subject has.
 *
 * It listens before it is configured, so the app under test can be given its issuer first; it
 * answers 503 until `register` is given the app's callback address.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';

export interface TestOidcProvider {
  /** e.g. `http://127.0.0.1:40123`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Subject → email address, for the people who can sign in at the provider. */
  accounts: Map<string, string>;
  /** Registers the app's callback as the client's one redirect URI, and starts answering. */
  register(redirectUri: string): Promise<void>;
  close(): Promise<void>;
}

type ProviderClass = typeof Provider;

let providerClass: Promise<ProviderClass> | undefined;

/**
 * oidc-provider warns on import when Node.js is older than v22; the project supports Node.js 20,
 * so that one warning (and only that one) is left out of the test output.
 */
function loadProvider(): Promise<ProviderClass> {
  providerClass ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING: Unsupported runtime'))
        return;
      warn(...args);
    };
    try {
      return (await import('oidc-provider')).default;
    } finally {
      console.warn = warn;
    }
  })();
  return providerClass;
}

export async function startOidcProvider(): Promise<TestOidcProvider> {
  const OidcProvider = await loadProvider();
  let handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  const server = http.createServer((req, res) => {
    if (handler) return handler(req, res);
    res.writeHead(503, { 'content-type': 'text/plain' }).end('not configured yet');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'partnership-plan';
  const clientSecret = crypto.randomBytes(24).toString('base64url');
  const accounts = new Map<string, string>();
  const signingKey = crypto
    .generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'jwk' });

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    async register(redirectUri: string) {
      const provider = new OidcProvider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            response_types: ['code'],
            grant_types: ['authorization_code'],
            token_endpoint_auth_method: 'client_secret_post',
          },
        ],
        pkce: { required: () => true },
        claims: { openid: ['sub'], email: ['email', 'email_verified'] },
        // The email claims go in the ID token itself, as Entra ID's optional `email` claim does.
        conformIdTokenClaims: false,
        features: { devInteractions: { enabled: true } },
        ttl: {
          Interaction: 600,
          Session: 600,
          Grant: 600,
          AuthorizationCode: 60,
          AccessToken: 600,
          IdToken: 600,
        },
        cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
        jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'RS256', kid: 'test' }] },
        async findAccount(_ctx: unknown, sub: string) {
          const email = accounts.get(sub);
          if (!email) return undefined;
          return { accountId: sub, claims: () => ({ sub, email, email_verified: true }) };
        },
      });
      handler = provider.callback();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
