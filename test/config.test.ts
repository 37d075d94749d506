import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has working defaults for a first start', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.production).toBe(false);
  });

  it('reads numbers as numbers and refuses what is not one', () => {
    expect(loadConfig({ PORT: '8080' }).port).toBe(8080);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
  });

  it('in production, refuses to start without a session secret, naming it', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET: is required in production/);
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40) }).production).toBe(true);
  });

  it('accepts only a PostgreSQL URL for DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@localhost/db' }).databaseUrl).toBe(
      'postgres://u@localhost/db',
    );
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u@localhost/db' })).toThrow(/DATABASE_URL/);
  });

  it('sends reminders every 15 minutes unless told otherwise; 0 turns them off', () => {
    expect(loadConfig({}).remindersEveryMinutes).toBe(15);
    expect(loadConfig({ REMINDERS_EVERY_MINUTES: '60' }).remindersEveryMinutes).toBe(60);
    expect(loadConfig({ REMINDERS_EVERY_MINUTES: '0' }).remindersEveryMinutes).toBe(0);
    for (const bad of ['-1', '1441', '2.5', 'hourly']) {
      expect(() => loadConfig({ REMINDERS_EVERY_MINUTES: bad })).toThrow(/REMINDERS_EVERY_MINUTES/);
    }
  });

  describe('single sign-on (OpenID Connect)', () => {
    const sso = {
      OIDC_ISSUER: 'https://login.microsoftonline.com/0b5c7a1e-0000-4000-8000-000000000000/v2.0',
      OIDC_CLIENT_ID: '6f2d1c3e-0000-4000-8000-000000000000',
      OIDC_CLIENT_SECRET: 'a client secret',
    };

    it('is off without its variables', () => {
      expect(loadConfig({}).oidc).toBeUndefined();
    });

    it('is on with all three, with the button’s words defaulted or given', () => {
      expect(loadConfig(sso).oidc).toEqual({
        issuer: sso.OIDC_ISSUER,
        clientId: sso.OIDC_CLIENT_ID,
        clientSecret: sso.OIDC_CLIENT_SECRET,
        label: 'Sign in with your organisation’s account',
      });
      expect(loadConfig({ ...sso, OIDC_LABEL: 'Sign in with your council account' }).oidc?.label).toBe(
        'Sign in with your council account',
      );
    });

    it('refuses one or two of the three, naming what is needed', () => {
      const { OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET } = sso;
      for (const partial of [
        { OIDC_ISSUER },
        { OIDC_CLIENT_ID },
        { OIDC_CLIENT_SECRET },
        { OIDC_ISSUER, OIDC_CLIENT_ID },
        { OIDC_ISSUER, OIDC_CLIENT_SECRET },
        { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET },
      ]) {
        expect(() => loadConfig(partial)).toThrow(
          /OIDC_ISSUER: single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together/,
        );
      }
    });

    it('refuses an issuer over plain HTTP, except on this machine', () => {
      expect(() => loadConfig({ ...sso, OIDC_ISSUER: 'http://login.example.gov.uk' })).toThrow(
        /OIDC_ISSUER: must be an https:\/\/ address/,
      );
      expect(loadConfig({ ...sso, OIDC_ISSUER: 'http://127.0.0.1:4000' }).oidc?.issuer).toBe(
        'http://127.0.0.1:4000',
      );
      expect(loadConfig({ ...sso, OIDC_ISSUER: 'http://localhost:4000/' }).oidc).toBeDefined();
    });
  });
});
