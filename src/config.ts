/**
 * The one place the environment is read. Typed from its schema; in production a missing or bad
 * setting stops the process at start with a message naming it.
 */
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

/** An OpenID provider is reached over HTTPS; plain HTTP only on this machine (the tests' provider). */
function isAllowedIssuer(issuer: string): boolean {
  const url = URL.parse(issuer);
  if (!url) return false;
  return (
    url.protocol === 'https:' ||
    (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
  );
}

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: port.default(3000),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional()
      .or(z.literal('').transform(() => undefined)),
    SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    DEMO_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
    /** For `partnership-plan users add` without --password-stdin (scripts, secrets managers). */
    PARTNERSHIP_PLAN_PASSWORD: z.string().optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** The address people use to reach the service, for links in emails, e.g. https://plan.example.gov.uk */
    PUBLIC_URL: z.url().optional(),
    /** smtp://user:pass@host:587 or smtps://…; without it, email goes to the in-app outbox. */
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
      .optional()
      .or(z.literal('').transform(() => undefined)),
    MAIL_FROM: z.string().min(3).default('Partnership Plan <no-reply@partnership-plan.invalid>'),
    /** OpenID Connect single sign-on (e.g. Microsoft Entra ID): all three, or none. */
    OIDC_ISSUER: z.url().optional(),
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    /** The button's words, e.g. "Sign in with your council account". */
    OIDC_LABEL: z.string().min(1).default('Sign in with your organisation’s account'),
    /** Minutes without a request after which a session ends. */
    SESSION_IDLE_MINUTES: z.coerce.number().int().min(5).max(1440).default(120),
    /** How often the app looks for reminder rounds that are due; 0 turns the scheduler off. */
    REMINDERS_EVERY_MINUTES: z.coerce.number().int().min(0).max(1440).default(15),
    TRUST_PROXY: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.SESSION_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SESSION_SECRET'], message: 'is required in production' });
    }
    const oidc = [env.OIDC_ISSUER, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET].filter(Boolean).length;
    if (oidc !== 0 && oidc !== 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['OIDC_ISSUER'],
        message: 'single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together',
      });
    }
    if (env.OIDC_ISSUER && !isAllowedIssuer(env.OIDC_ISSUER)) {
      ctx.addIssue({
        code: 'custom',
        path: ['OIDC_ISSUER'],
        message: 'must be an https:// address (http:// only for a provider on this machine)',
      });
    }
  });

export type Env = z.infer<typeof configSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  production: boolean;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  sessionSecret: string | undefined;
  demoPassword: string | undefined;
  cliPassword: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  publicUrl: string | undefined;
  trustProxy: boolean;
  smtpUrl: string | undefined;
  mailFrom: string;
  oidc: { issuer: string; clientId: string; clientSecret: string; label: string } | undefined;
  sessionIdleMinutes: number;
  /** 0: this instance sends no reminders. */
  remindersEveryMinutes: number;
}

export class ConfigError extends Error {}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`The environment is not valid:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  return {
    env: env.NODE_ENV,
    production: env.NODE_ENV === 'production',
    host: env.HOST,
    port: env.PORT,
    dataDir: path.resolve(env.DATA_DIR),
    databaseUrl: env.DATABASE_URL,
    sessionSecret: env.SESSION_SECRET,
    demoPassword: env.DEMO_PASSWORD,
    cliPassword: env.PARTNERSHIP_PLAN_PASSWORD,
    logLevel: env.LOG_LEVEL,
    publicUrl: env.PUBLIC_URL,
    trustProxy: env.TRUST_PROXY,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    oidc:
      env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET
        ? {
            issuer: env.OIDC_ISSUER,
            clientId: env.OIDC_CLIENT_ID,
            clientSecret: env.OIDC_CLIENT_SECRET,
            label: env.OIDC_LABEL,
          }
        : undefined,
    sessionIdleMinutes: env.SESSION_IDLE_MINUTES,
    remindersEveryMinutes: env.REMINDERS_EVERY_MINUTES,
  };
}
