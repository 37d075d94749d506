/**
 * The case review pages over HTTP: an application taken through the form (CSRF, the error
 * summary with what was typed, another complaint row, the threshold on the case page), the
 * settings, the public page and CSV of the figures, and no applicant's name on any page a
 * partner can open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const REGISTER = '/p/sosafe/evidence/case-reviews';
const NAME = 'Zebedee Quinton-Applicant';
let t: TestApp;
let coordinator: Session;
let partner: Session;
let caseUrl = '';

const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');

const form = (extra: Record<string, string> = {}) => ({
  'receivedOn-day': '1',
  'receivedOn-month': '6',
  'receivedOn-year': '2024',
  applicantName: NAME,
  applicantContact: '7 Hidden Lane',
  contactPreference: 'phone',
  tenure: 'housing_association',
  complaintRows: '3',
  'complaint-0-date-day': '12',
  'complaint-0-date-month': '1',
  'complaint-0-date-year': '2024',
  'complaint-0-agency': 'Police',
  'complaint-1-date-day': '2',
  'complaint-1-date-month': '3',
  'complaint-1-date-year': '2024',
  'complaint-1-agency': 'Stevenage Borough Council',
  'complaint-2-date-day': '20',
  'complaint-2-date-month': '5',
  'complaint-2-date-year': '2024',
  'complaint-2-agency': 'Police',
  'complaint-2-summary': 'Shouting at night',
  action: 'save',
  ...extra,
});

beforeAll(async () => {
  t = await createTestApp();
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
  partner = new Session(t.app);
  await partner.signIn(DEMO.partner);
});
afterAll(async () => {
  await t?.close();
});

describe('taking an application', () => {
  it('refuses the form without its CSRF token', async () => {
    const response = await coordinator.postRaw(`${REGISTER}/new`, form());
    expect(response.statusCode).toBe(403);
  });

  it('shows the error summary and keeps what was typed', async () => {
    const response = await coordinator.post(
      `${REGISTER}/new`,
      form({ applicantName: '', 'complaint-1-date-day': '31', 'complaint-1-date-month': '2' }),
    );
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('There is a problem');
    expect(response.body).toContain('href="#applicantName"');
    expect(response.body).toContain('href="#complaint-1-date-day"');
    expect(textOf(response.body)).toContain('The date of the complaint must be a real date');
    expect(response.body).toContain('value="Stevenage Borough Council"');
    expect(response.body).toContain('Shouting at night');
  });

  it('adds a complaint row without saving', async () => {
    const response = await coordinator.post(`${REGISTER}/new`, form({ action: 'add-complaint' }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('name="complaint-3-agency"');
    expect(response.body).toContain('name="complaintRows" value="4"');
    expect(response.body).toContain(`value="${NAME}"`);
  });

  it('saves it, decides the threshold and shows why on the case page', async () => {
    const response = await coordinator.post(`${REGISTER}/new`, form());
    expect(response.statusCode).toBe(303);
    caseUrl = String(response.headers.location);
    expect(caseUrl).toMatch(new RegExp(`^${REGISTER}/\\d+$`));
    const page = await coordinator.get(caseUrl);
    const text = textOf(page.body);
    expect(text).toContain('CT-2024-001');
    expect(text).toContain('Application CT-2024-001 has been added: the threshold was met');
    expect(text).toContain('3 complaints within 6 months: 12 Jan, 2 Mar, 20 May 2024');
    expect(text).toContain(NAME);
    const register = await coordinator.get(REGISTER);
    expect(textOf(register.body)).toContain(NAME);
  });

  it('takes the settings from the coordinator, with the error summary for a bad number', async () => {
    const bad = await coordinator.post(`${REGISTER}/settings`, {
      triggerComplaints: '0',
      triggerMonths: '6',
      retentionYears: '6',
      version: '0',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('href="#triggerComplaints"');
    const page = await coordinator.get(`${REGISTER}/settings`);
    const version = /name="version" value="(\d+)"/.exec(page.body)?.[1];
    const saved = await coordinator.post(`${REGISTER}/settings`, {
      triggerComplaints: '3',
      triggerMonths: '6',
      retentionYears: '7',
      version: version!,
    });
    expect(saved.statusCode).toBe(303);
    expect(textOf((await coordinator.get(REGISTER)).body)).toContain(
      'redacted 7 years after a case is closed',
    );
  });
});

describe('what a partner sees', () => {
  it('the figures, never an applicant’s name', async () => {
    const register = await partner.get(REGISTER);
    expect(register.statusCode).toBe(200);
    expect(register.body).toContain('data-testid="cases-hidden"');
    expect(register.body).toContain('data-testid="figures-2024-25"');
    const refused = [
      caseUrl,
      `${caseUrl}/edit`,
      `${caseUrl}/review`,
      `${caseUrl}/outcome`,
      `${REGISTER}/new`,
    ];
    for (const url of refused) expect((await partner.get(url)).statusCode, url).toBe(403);
    const pages = [
      REGISTER,
      '/p/sosafe/evidence',
      '/partnerships/sosafe/case-reviews',
      '/partnerships/sosafe/case-reviews.csv',
      '/p/sosafe/plans/2024-25/changes',
      ...refused,
    ];
    for (const url of pages) {
      const body = (await partner.get(url)).body;
      expect(body, url).not.toContain(NAME);
      expect(body, url).not.toContain('Hidden Lane');
      expect(body, url).not.toContain('Shouting at night');
    }
  });
});

describe('the public figures', () => {
  it('are a page and a CSV for residents, with no cookie, and linked from the partnership’s page', async () => {
    const resident = new Session(t.app);
    const home = await resident.get('/partnerships/north-herts');
    expect(home.body).toContain('href="/partnerships/north-herts/case-reviews"');
    const page = await resident.get('/partnerships/north-herts/case-reviews');
    expect(page.statusCode).toBe(200);
    expect(page.headers['set-cookie']).toBeUndefined();
    const text = textOf(page.body);
    expect(text).toContain('2020/21 2 1 1 Not published Published figures');
    expect(page.body).toContain('href="https://www.north-herts.gov.uk/community-trigger"');
    const csv = await resident.get('/partnerships/north-herts/case-reviews.csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['set-cookie']).toBeUndefined();
    expect(csv.body).toContain(
      '2015/16,2,0,2,,Published figures,https://www.north-herts.gov.uk/community-trigger',
    );

    const sosafe = await resident.get('/partnerships/sosafe/case-reviews');
    expect(textOf(sosafe.body)).toContain('2024/25 1 0 0 0 The partnership’s register');
    expect(sosafe.body).not.toContain(NAME);
  });
});
