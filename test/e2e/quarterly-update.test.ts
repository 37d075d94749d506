/**
 * A lead officer from the email's link to a submitted update. The coordinator opens Q4 2024/25
 * through the quarter's page; the app (the real process) emails each lead officer through a real
 * SMTP server; Helen Whitehead follows the link to her first action in a browser that has never
 * seen the app, signs in, lands on the form, sees it is late, submits it and sees it confirmed.
 * Then she sends her second action's update from "Your Q4 updates" with JavaScript switched off.
 * The form and the one-page list pass axe, with and without JavaScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type ReceivedEmail, type SmtpSink } from '../support/smtp.js';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  AimPage,
  DEMO_PLAN_PATH,
  expectHeading,
  OpenQuarterPage,
  PlanPage,
  ProgressFormPage,
  QuarterUpdatesPage,
  QuartersPage,
  ServiceNavigation,
  SignInPage,
  successBanner,
  textOf,
} from './support/pages.js';

const COORDINATOR = 'coordinator@sosafe.example';
const HELEN = 'helen.whitehead@sosafe.example';
const REQUEST_SUBJECT = 'SoSafe Stevenage: please send your Q4 2024/25 progress updates by 14 April 2025';

let smtp: SmtpSink;
let app: RunningApp;
let coordinator: TestBrowser;
let helen: TestBrowser;
let noScript: TestBrowser;

beforeAll(async () => {
  smtp = await startSmtpSink();
  [app, coordinator, helen, noScript] = await Promise.all([
    startApp({
      publicUrl: true,
      // The scheduler is left out: this journey is about the request, not the reminders.
      env: { SMTP_URL: smtp.url, REMINDERS_EVERY_MINUTES: '0' },
    }),
    launchBrowser(),
    launchBrowser(),
    launchBrowser({ javaScriptEnabled: false }),
  ]);
});

afterAll(async () => {
  await Promise.all([coordinator?.close(), helen?.close(), noScript?.close(), app?.stop()]);
  await smtp?.close();
});

/** The update form link of one action in a request email: the line after "Action n: …" under the aim. */
function formLinkIn(message: ReceivedEmail, aim: string, action: number): URL {
  const lines = message.text.split('\n').map((line) => line.trim());
  const aimAt = lines.findIndex((line) => line.startsWith(`Aim ${aim}:`));
  const actionAt = lines.findIndex((line, i) => i > aimAt && line.startsWith(`Action ${action}:`));
  const link = aimAt >= 0 && actionAt >= 0 ? lines[actionAt + 1] : undefined;
  if (!link || !/^https?:\/\//.test(link)) {
    throw new Error(`No link to action ${action} of aim ${aim} in:\n${message.text}`);
  }
  return new URL(link);
}

async function signIn(browser: TestBrowser, email: string): Promise<void> {
  const signInPage = new SignInPage(browser.page);
  await signInPage.goto(app.baseUrl);
  await signInPage.signIn(email, DEMO_PASSWORD_FOR_TESTS);
  await new PlanPage(browser.page).expectShown();
}

describe('a lead officer, from the email to a submitted update', () => {
  let request: ReceivedEmail;

  it('the coordinator opens Q4 with its due date, and the lead officer is emailed', async () => {
    await signIn(coordinator, COORDINATOR);
    await new ServiceNavigation(coordinator.page).open('Quarterly updates');
    const quarters = new QuartersPage(coordinator.page);
    await quarters.expectShown();
    await quarters.openQuarterForm(4);
    const open = new OpenQuarterPage(coordinator.page, 4);
    await open.fillDueDate('14', '4', '2025');
    await open.open();
    expect(await textOf(successBanner(coordinator.page))).toContain('Q4 is open');

    request = await smtp.waitFor(
      (m) => m.to.includes(HELEN) && m.subject === REQUEST_SUBJECT,
      'the Q4 request to Helen Whitehead',
    );
    // One email, however many actions she leads.
    expect(smtp.messages.filter((m) => m.to.includes(HELEN) && m.subject === REQUEST_SUBJECT)).toHaveLength(
      1,
    );
    expect(request.text).toContain(`${app.baseUrl}${DEMO_PLAN_PATH}/quarters/4/updates`);
  });

  it('she follows the link, signs in, and submits her update, marked late', async () => {
    const link = formLinkIn(request, '3.1', 1);
    expect(link.origin).toBe(app.baseUrl);
    const page = helen.page;

    // A browser that has never signed in here is asked to sign in first, then sent on.
    await page.goto(link.toString());
    await expectHeading(page, 'Sign in', { level: 1 });
    await new SignInPage(page).signIn(HELEN, DEMO_PASSWORD_FOR_TESTS);
    await expectHeading(page, 'Record progress', { level: 1 });
    expect(page.url()).toBe(link.toString());

    const form = new ProgressFormPage(page);
    expect(await textOf(page.getByRole('main'))).toContain('Aim 3.1, action 1');
    expect(await form.quarter(4).isChecked()).toBe(true);
    expect(await textOf(form.dueDate())).toBe('Due by 14 April 2025');
    expect(await textOf(form.lateWarning())).toContain('This update is late: it will be marked late');
    // Her latest earlier update is there for context.
    expect(await page.getByTestId('previous-update').count()).toBe(1);
    await expectNoAxeViolations(page);

    await form.chooseStatus('On track');
    await form.fillProgress('Q4: hate crime reporting sessions held with NHS staff at the Lister.');
    await form.fillEvidenceLink('https://example.org/lister-sessions');
    await form.submit();

    await expectHeading(page, /^3\.1 /, { level: 1 });
    expect(await textOf(successBanner(page))).toContain(
      'Your Q4 update for aim 3.1 has been submitted (late)',
    );
    const q4 = await textOf(new AimPage(page).quarterEntry(1, 4));
    expect(q4).toContain('Q4: hate crime reporting sessions held with NHS staff at the Lister.');

    // The form now says where it stands.
    await page.goto(link.toString());
    expect(await textOf(form.state())).toMatch(/^Submitted on \d{1,2} \w+ \d{4} \(late\)\.$/);
    expect(await form.lateWarning().count()).toBe(0);
  });

  it('her one-page list shows it submitted, from the plan’s link, and passes axe', async () => {
    const page = helen.page;
    await new PlanPage(page).goto(app.baseUrl);
    await page.getByRole('link', { name: 'Your updates for Q4', exact: true }).click();
    const list = new QuarterUpdatesPage(page);
    await list.expectShown(4);
    expect(await list.state('3.1', 1)).toContain('Submitted');
    expect(await list.state('3.1', 1)).toContain('Late');
    expect(await list.state('3.1', 2)).toContain('No update yet');
    await expectNoAxeViolations(page);
  });

  it('without JavaScript, she submits her second action from the one-page list', async () => {
    const page = noScript.page;
    await signIn(noScript, HELEN);
    const list = new QuarterUpdatesPage(page);
    await list.goto(app.baseUrl, 4);
    await expectNoAxeViolationsWithoutJavaScript(page, helen.context);

    await list.chooseStatus('3.1', 2, 'At risk');
    await list.fillProgress(
      '3.1',
      2,
      'Q4: the social media campaign on the five types of hate crime ran late.',
    );
    await list.submitAll();

    await list.expectShown(4);
    // Only what she typed was sent: her first action's update, unchanged, was left as it was.
    expect(await textOf(successBanner(page))).toContain('Your Q4 updates for 1 action have been submitted');
    expect(await list.state('3.1', 2)).toContain('Submitted');
    await expectNoAxeViolationsWithoutJavaScript(page, helen.context);

    // The form of that action, without JavaScript, passes axe too.
    await list
      .action('3.1', 2)
      .getByRole('link', { name: /^Open this update on its own page/ })
      .click();
    await expectHeading(page, 'Record progress', { level: 1 });
    expect(await new ProgressFormPage(page).progressText().inputValue()).toBe(
      'Q4: the social media campaign on the five types of hate crime ran late.',
    );
    await expectNoAxeViolationsWithoutJavaScript(page, helen.context);
  });
});
