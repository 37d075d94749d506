/**
 * Every kind of page passes axe (WCAG 2.2 AA), reached the way a person reaches it: as the
 * coordinator, who sees every page; as a partner, who may read but not change; and signed out.
 * Along the way: filters that travel in the address, search, the "Added <month>" tag of an aim
 * added mid-year, archiving, and what a partner is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  AimFormPage,
  AimPage,
  ArchivePage,
  DEMO_PLAN_PATH,
  DocumentPage,
  errorSummary,
  expectHeading,
  expectNoSidewaysScrolling,
  PlanPage,
  ProgressFormPage,
  SearchPage,
  ServiceNavigation,
  SignInPage,
  successBanner,
  textOf,
} from './support/pages.js';

const COORDINATOR = 'coordinator@sosafe.example';
const PARTNER = 'partner@sosafe.example';

let app: RunningApp;
let coordinator: TestBrowser;
/** Where the coordinator's "Record progress" for action 1 of aim 3.1 leads. */
let progressFormUrl: string | undefined;

async function signIn(page: Page, email: string): Promise<void> {
  const signInPage = new SignInPage(page);
  await signInPage.goto(app.baseUrl);
  await signInPage.signIn(email, DEMO_PASSWORD_FOR_TESTS);
  await new PlanPage(page).expectShown();
}

function url(path: string): string {
  return new URL(path, app.baseUrl).toString();
}

beforeAll(async () => {
  [app, coordinator] = await Promise.all([startApp(), launchBrowser()]);
  await signIn(coordinator.page, COORDINATOR);
});

afterAll(async () => {
  await Promise.all([coordinator?.close(), app?.stop()]);
});

describe('as the coordinator', () => {
  let page: Page;
  beforeAll(() => {
    page = coordinator.page;
  });

  it('the plan page', async () => {
    const plan = new PlanPage(page);
    await plan.goto(app.baseUrl);
    expect(await plan.addSectionButton().count()).toBe(1);
    expect(await plan.aim('3.1').count()).toBe(1);
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);
  });

  it('aim 3.1, with its three actions', async () => {
    const aim = new AimPage(page);
    await aim.goto(app.baseUrl, '3.1');
    for (const index of [1, 2, 3]) expect(await aim.action(index).count()).toBe(1);
    expect(await aim.action(4).count()).toBe(0);
    // The coordinator may record progress on every action.
    expect(await aim.allRecordProgressButtons().count()).toBe(3);
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);
  });

  it('aim 4.1, with its "Added August 2024" tag', async () => {
    const aim = new AimPage(page);
    await aim.goto(app.baseUrl, '4.1');
    expect(await textOf(aim.addedLabel())).toBe('Added August 2024');
    await expectNoAxeViolations(page);
  });

  it('aim 5.7, with its local delivery principles', async () => {
    const aim = new AimPage(page);
    await aim.goto(app.baseUrl, '5.7');
    const principles = aim.deliveryPrinciples();
    expect(await principles.count()).toBe(1);
    expect(await principles.getByRole('heading', { name: 'Principle 1', exact: true }).count()).toBe(1);
    expect(await textOf(principles)).toContain('Our response');
    expect(await aim.addedLabel().count()).toBe(0);
    await expectNoAxeViolations(page);
  });

  it('the whole plan, unfiltered', async () => {
    await new ServiceNavigation(page).open('Whole plan');
    await expectHeading(page, 'Action plan 2024/25: the whole plan', { level: 1 });
    const document = new DocumentPage(page);
    expect(await document.resultCount()).toBe('Showing all 34 actions.');
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);
  });

  it('the whole plan, filtered through the form, at an address that can be shared', async () => {
    await page.goto(url(`${DEMO_PLAN_PATH}/document`));
    const document = new DocumentPage(page);
    await document.chooseSection(3);
    await document.chooseQuarter(2);
    await document.applyFilters();
    await expectHeading(page, 'Action plan 2024/25: the whole plan', { level: 1 });

    const address = new URL(page.url());
    expect(address.pathname).toBe(`${DEMO_PLAN_PATH}/document`);
    expect(address.searchParams.get('section')).toBe('3');
    expect(address.searchParams.get('quarter')).toBe('2');
    const count = await document.resultCount();
    expect(count).toMatch(/^Showing \d+ actions? that match the filters\.$/);
    expect(count).not.toContain('Showing 0 ');
    const aims = await document.rowAims();
    expect(aims.length).toBeGreaterThan(0);
    for (const aim of aims) expect(aim).toMatch(/^3\./);
    await expectNoAxeViolations(page);

    // The same address, opened afresh, shows the same view with the same choices made.
    await page.goto(address.toString());
    expect(await document.resultCount()).toBe(count);
    expect(await document.rowAims()).toEqual(aims);
    expect(await document.chosen('Section')).toBe('3');
    expect(await document.chosen('Progress in quarter')).toBe('2');
  });

  it('search, with results and with none', async () => {
    await new ServiceNavigation(page).open('Search');
    await expectHeading(page, 'Search the plan', { level: 1 });
    const search = new SearchPage(page);
    await expectNoAxeViolations(page);

    await search.search('Lister');
    expect(await search.resultCount()).toBe('1 aim matches “Lister”.');
    expect(await search.results().allInnerTexts()).toEqual(['3.1 To promote reporting of Hate Crime.']);
    expect(new URL(page.url()).searchParams.get('q')).toBe('Lister');
    await expectNoAxeViolations(page);

    await search.search('xylophone');
    expect(await search.resultCount()).toBe('0 aims match “xylophone”.');
    expect(await search.results().count()).toBe(0);
    await expectNoAxeViolations(page);
  });

  it('the organisations, and one organisation', async () => {
    await new ServiceNavigation(page).open('Organisations');
    await expectHeading(page, 'Organisations in the 2024/25 plan', { level: 1 });
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);

    await page.getByTestId('organisations').getByRole('link', { name: 'CCSU', exact: true }).click();
    await expectHeading(page, 'CCSU', { level: 1, exact: true });
    const leads = page.getByRole('heading', { name: 'What it leads' });
    expect(await leads.count()).toBe(1);
    expect(await page.getByRole('link', { name: /^3\.1 / }).count()).toBeGreaterThan(0);
    await expectNoAxeViolations(page);
  });

  it('about the plan', async () => {
    await new ServiceNavigation(page).open('About the plan');
    await expectHeading(page, 'About the action plan 2024/25', { level: 1, exact: true });
    expect(await page.getByTestId('priorities').count()).toBe(1);
    expect(await page.getByTestId('glossary').count()).toBe(1);
    await expectNoAxeViolations(page);
  });

  it('the progress form, and the form sent back empty with its error summary', async () => {
    const aim = new AimPage(page);
    await aim.goto(app.baseUrl, '3.1');
    await aim.recordProgress(1);
    progressFormUrl = page.url();
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);

    const form = new ProgressFormPage(page);
    await form.save();
    await expectHeading(page, 'Record progress', { level: 1 });
    const summary = errorSummary(page);
    expect(await summary.count()).toBe(1);
    const problems = await summary.getByRole('link').allInnerTexts();
    expect(problems.length).toBeGreaterThan(0);
    expect(await page.title()).toMatch(/^Error: /);
    // Each problem in the summary links to a field on the page.
    for (const link of await summary.getByRole('link').all()) {
      const target = (await link.getAttribute('href')) ?? '';
      expect(target).toMatch(/^#/);
      expect(await page.locator(target).count()).toBe(1);
    }
    await expectNoAxeViolations(page);
  });

  it('the forms to add a section, an action, to change an action, and to archive one', async () => {
    const plan = new PlanPage(page);
    await plan.goto(app.baseUrl);
    await plan.addSectionButton().click();
    await expectHeading(page, 'Add a section', { level: 1 });
    await expectNoAxeViolations(page);

    const aim = new AimPage(page);
    await aim.goto(app.baseUrl, '3.1');
    await aim.archiveActionLink(3).click();
    await expectHeading(page, /^Are you sure you want to archive the action “.+” of aim 3\.1\?$/, {
      level: 1,
      exact: true,
    });
    await expectNoAxeViolations(page);

    await aim.goto(app.baseUrl, '3.1');
    await aim.addAction();
    await expectNoAxeViolations(page);

    await aim.goto(app.baseUrl, '3.1');
    await aim.changeAction(1);
    expect(await page.getByLabel('Action', { exact: true }).inputValue()).toContain(
      'Advertise where the Hate Crime 3rd party reporting centres are',
    );
    await expectNoAxeViolations(page);
  });

  it('adds an aim to section 5, shown as added this month, then archives it', async () => {
    const plan = new PlanPage(page);
    await plan.goto(app.baseUrl);
    await plan.addAimToSection(5);
    await expectNoAxeViolations(page);

    const form = new AimFormPage(page);
    const number = await form.number().inputValue();
    expect(number).toMatch(/^5\.\d+$/);
    expect(await plan.aim(number).count()).toBe(0);
    await form.fillTitle('Tackle nuisance motorbikes in parks');
    await form.save();

    const aim = new AimPage(page);
    await expectHeading(page, `${number} Tackle nuisance motorbikes in parks`, { level: 1, exact: true });
    expect(await textOf(successBanner(page))).toContain(`Aim ${number} has been added`);
    const thisMonth = new Date().toLocaleDateString('en-GB', {
      month: 'long',
      year: 'numeric',
      timeZone: 'Europe/London',
    });
    expect(await textOf(aim.addedLabel())).toBe(`Added ${thisMonth}`);
    await expectNoAxeViolations(page);

    await plan.goto(app.baseUrl);
    expect(await plan.aim(number).count()).toBe(1);

    await plan.openAim(number);
    await aim.archiveAim();
    await expectHeading(
      page,
      `Are you sure you want to archive aim ${number} Tackle nuisance motorbikes in parks?`,
      { level: 1, exact: true },
    );
    await expectNoAxeViolations(page);
    await new ArchivePage(page).confirm();

    await plan.expectShown();
    expect(await textOf(successBanner(page))).toContain(`You archived aim ${number}`);
    expect(await plan.aim(number).count()).toBe(0);
    expect(await page.getByRole('link', { name: /Tackle nuisance motorbikes/ }).count()).toBe(0);
    await expectNoAxeViolations(page);
  });

  it('a page that does not exist', async () => {
    const response = await page.goto(url(`${DEMO_PLAN_PATH}/aims/9.9`));
    expect(response?.status()).toBe(404);
    await expectHeading(page, 'Page not found', { level: 1 });
    await expectNoAxeViolations(page);

    const elsewhere = await page.goto(url('/no-such-page'));
    expect(elsewhere?.status()).toBe(404);
    await expectHeading(page, 'Page not found', { level: 1 });
    await expectNoAxeViolations(page);
  });

  it('the accessibility statement, privacy notice and contact page, from the footer', async () => {
    for (const [link, heading] of [
      ['Accessibility statement', 'Accessibility statement for Partnership Plan'],
      ['Privacy notice', 'Privacy notice'],
      ['Contact', 'Contact'],
    ] as const) {
      await page.getByRole('contentinfo').getByRole('link', { name: link, exact: true }).click();
      await expectHeading(page, heading, { level: 1, exact: true });
      await expectNoAxeViolations(page);
    }
  });
});

describe('as a partner', () => {
  let partner: TestBrowser;
  beforeAll(async () => {
    partner = await launchBrowser();
    await signIn(partner.page, PARTNER);
  });
  afterAll(async () => {
    await partner?.close();
  });

  it('reads the plan and its aims, with no button to change them', async () => {
    const page = partner.page;
    const plan = new PlanPage(page);
    await plan.goto(app.baseUrl);
    expect(await plan.aim('3.1').count()).toBe(1);
    expect(await plan.addSectionButton().count()).toBe(0);
    expect(await page.getByRole('link', { name: /^Add an aim/ }).count()).toBe(0);
    await expectNoAxeViolations(page);

    const aim = new AimPage(page);
    await aim.goto(app.baseUrl, '3.1');
    expect(await aim.action(1).count()).toBe(1);
    expect(await aim.allRecordProgressButtons().count()).toBe(0);
    expect(await page.getByRole('link', { name: /^Add the Q\d update/ }).count()).toBe(0);
    await expectNoAxeViolations(page);
  });

  it('is refused the progress form when opening its address directly', async () => {
    const page = partner.page;
    let target = progressFormUrl;
    if (!target) {
      // This test ran alone: find the address as the coordinator would.
      await new AimPage(coordinator.page).goto(app.baseUrl, '3.1');
      target = new URL(
        (await new AimPage(coordinator.page).recordProgressButton(1).getAttribute('href')) ?? '',
        app.baseUrl,
      ).toString();
    }
    const response = await page.goto(target);
    expect(response?.status()).toBe(403);
    await expectHeading(page, 'You cannot do that', { level: 1 });
    expect(await page.getByRole('button', { name: 'Submit update' }).count()).toBe(0);
    await expectNoAxeViolations(page);
  });
});

describe('signed out', () => {
  let visitor: TestBrowser;
  beforeAll(async () => {
    visitor = await launchBrowser();
  });
  afterAll(async () => {
    await visitor?.close();
  });

  it('a wrong password is sent back with an error summary, keeping the email address', async () => {
    const page = visitor.page;
    const signIn = new SignInPage(page);
    await signIn.goto(app.baseUrl);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/sign-in')),
      signIn.signIn(COORDINATOR, 'not-the-password'),
    ]);
    expect(response.status()).toBe(401);
    await expectHeading(page, 'Sign in', { level: 1 });
    const summary = errorSummary(page);
    expect(await textOf(summary)).toContain('The email address or password is not right');
    expect(await page.title()).toMatch(/^Error: /);
    expect(await page.getByLabel('Email address', { exact: true }).inputValue()).toBe(COORDINATOR);
    await expectNoAxeViolations(page);
  });
});
