/**
 * Page objects: what a person does on a page, in their words, so a test reads as a journey and a
 * change of markup is fixed in one place. Find things by role and label (as a screen reader would),
 * or by `data-testid` where there is no good accessible name.
 */
import type { Locator, Page } from 'playwright-core';

/**
 * How long to wait for what a step should bring (a bound, not a measure): generous, because CI runs
 * the browser suite on two cores beside the database suite on PostgreSQL.
 */
const WAIT_MS = 30_000;

/** Waits for a heading with this text (a string matches part of the name, case-insensitively). */
export async function expectHeading(
  page: Page,
  text: string | RegExp,
  options: { level?: number; exact?: boolean } = {},
): Promise<void> {
  const heading = page
    .getByRole('heading', { name: text, exact: options.exact ?? false, level: options.level })
    .first();
  try {
    await heading.waitFor({ state: 'visible', timeout: WAIT_MS });
  } catch {
    const headings = await page.getByRole('heading').allInnerTexts();
    const found = headings.map((h) => `"${h.replace(/\s+/g, ' ').trim()}"`).join(', ') || 'none';
    throw new Error(
      `Expected a heading ${typeof text === 'string' ? JSON.stringify(text) : String(text)}${options.level ? ` (h${options.level})` : ''} on ${page.url()}; ` +
        `the headings there are: ${found}`,
    );
  }
}

export class SignInPage {
  constructor(readonly page: Page) {}

  async goto(baseUrl: string): Promise<void> {
    await this.page.goto(new URL('/sign-in', baseUrl).toString());
  }

  async fillEmail(email: string): Promise<void> {
    await this.page.getByLabel('Email address', { exact: true }).fill(email);
  }

  async fillPassword(password: string): Promise<void> {
    await this.page.getByLabel('Password', { exact: true }).fill(password);
  }

  async submit(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /** Fills the form and submits it; where the browser lands is for the test to check. */
  async signIn(email: string, password: string): Promise<void> {
    await this.fillEmail(email);
    await this.fillPassword(password);
    await this.submit();
  }
}

/** What a person reads in an element: its visible text, with each run of white space as one space. */
export async function textOf(locator: Locator): Promise<string> {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Shows the page at `width` CSS pixels and fails if the page itself scrolls sideways there (WCAG
 * 1.4.10 reflow: a wide table may scroll in its own box, the page may not); then restores the size.
 */
export async function expectNoSidewaysScrolling(page: Page, width = 375): Promise<void> {
  const before = page.viewportSize() ?? { width: 1280, height: 720 };
  await page.setViewportSize({ width, height: 800 });
  try {
    const sizes = (await page.evaluate(
      '({ client: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth })',
    )) as { client: number; scroll: number };
    if (sizes.scroll > sizes.client) {
      throw new Error(
        `${page.url()} scrolls sideways at ${width} px wide: it is ${sizes.scroll} px wide in a ${sizes.client} px window`,
      );
    }
  } finally {
    await page.setViewportSize(before);
  }
}

/** The bar under the header: the partnership's pages, and the signed-in person's name. */
export class ServiceNavigation {
  constructor(readonly page: Page) {}

  link(
    name: 'Plan' | 'Whole plan' | 'Search' | 'Organisations' | 'About the plan' | 'Quarterly updates',
  ): Locator {
    return this.page.getByRole('navigation', { name: 'Plan' }).getByRole('link', { name, exact: true });
  }

  async open(name: Parameters<ServiceNavigation['link']>[0]): Promise<void> {
    await this.link(name).click();
  }

  async signOut(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await expectHeading(this.page, 'Sign in', { level: 1 });
  }
}

/** The GOV.UK error summary ("There is a problem") at the top of a form that was sent back. */
export function errorSummary(page: Page): Locator {
  return page.getByRole('alert').filter({ hasText: 'There is a problem' });
}

/** The green "success" banner shown once after a change was saved. */
export function successBanner(page: Page): Locator {
  return page.getByTestId('flash');
}

export const DEMO_PLAN_PATH = '/p/sosafe/plans/2024-25';

/** A plan's front page: its sections, each a table of aims with their latest status and progress. */
export class PlanPage {
  constructor(
    readonly page: Page,
    readonly title = 'Action plan 2024/25',
  ) {}

  async goto(baseUrl: string, path = DEMO_PLAN_PATH): Promise<void> {
    await this.page.goto(new URL(path, baseUrl).toString());
    await this.expectShown();
  }

  async expectShown(): Promise<void> {
    await expectHeading(this.page, this.title, { level: 1, exact: true });
  }

  aim(number: string): Locator {
    return this.page.getByTestId(`aim-${number}`);
  }

  async latestStatus(number: string): Promise<string> {
    return textOf(this.page.getByTestId(`aim-${number}-status`));
  }

  async latestProgress(number: string): Promise<string> {
    return textOf(this.page.getByTestId(`aim-${number}-progress`));
  }

  /** Follows the aim's link in its row of the plan. */
  async openAim(number: string): Promise<void> {
    await this.aim(number)
      .getByRole('link', { name: new RegExp(`^${escapeRegExp(number)} `) })
      .click();
    await expectHeading(this.page, new RegExp(`^${escapeRegExp(number)} `), { level: 1 });
  }

  addSectionButton(): Locator {
    return this.page.getByRole('button', { name: 'Add a section', exact: true });
  }

  async addAimToSection(section: number): Promise<void> {
    await this.page.getByRole('link', { name: `Add an aim to section ${section}`, exact: true }).click();
    await expectHeading(this.page, `Add an aim to section ${section}`, { level: 1 });
  }
}

/** One aim: its actions, each with its lead, partners and a timeline of quarterly progress. */
export class AimPage {
  constructor(readonly page: Page) {}

  async goto(baseUrl: string, number: string, planPath = DEMO_PLAN_PATH): Promise<void> {
    await this.page.goto(new URL(`${planPath}/aims/${number}`, baseUrl).toString());
    await expectHeading(this.page, new RegExp(`^${escapeRegExp(number)} `), { level: 1 });
  }

  heading(): Locator {
    return this.page.getByTestId('aim-heading');
  }

  /** The "Added <month year>" tag of an aim added after the plan year began. */
  addedLabel(): Locator {
    return this.page.getByTestId('added-label');
  }

  /** Action `index` (1, 2, …) of the aim. */
  action(index: number): Locator {
    return this.page.getByTestId(`action-${index}`);
  }

  /** The entry for quarter `quarter` in the timeline of action `index`. */
  quarterEntry(index: number, quarter: 1 | 2 | 3 | 4): Locator {
    return this.page.getByTestId(`action-${index}-q${quarter}`);
  }

  recordProgressButton(index: number): Locator {
    return this.action(index).getByRole('button', { name: 'Record progress', exact: true });
  }

  allRecordProgressButtons(): Locator {
    return this.page.getByRole('button', { name: 'Record progress', exact: true });
  }

  async recordProgress(index: number): Promise<void> {
    await this.recordProgressButton(index).click();
    await expectHeading(this.page, 'Record progress', { level: 1 });
  }

  /** Follows "Add the Qn update" in action `index`'s timeline. */
  async addQuarterUpdate(index: number, quarter: 1 | 2 | 3 | 4): Promise<void> {
    await this.page
      .getByRole('link', { name: `Add the Q${quarter} update of action ${index}`, exact: true })
      .click();
    await expectHeading(this.page, 'Record progress', { level: 1 });
  }

  async addAction(): Promise<void> {
    await this.page.getByRole('link', { name: 'Add an action', exact: true }).click();
    await expectHeading(this.page, /^Add an action to aim /, { level: 1 });
  }

  async changeAction(index: number): Promise<void> {
    await this.page.getByRole('link', { name: `Change action ${index}`, exact: true }).click();
    await expectHeading(this.page, /^Change an action of aim /, { level: 1 });
  }

  archiveActionLink(index: number): Locator {
    return this.page.getByRole('link', { name: `Archive action ${index}`, exact: true });
  }

  async archiveAim(): Promise<void> {
    await this.page.getByRole('link', { name: 'Archive this aim', exact: true }).click();
    await expectHeading(this.page, 'Are you sure you want to archive', { level: 1 });
  }

  /** The section on local delivery principles that some aims (5.7 in the demo) carry. */
  deliveryPrinciples(): Locator {
    return this.page.getByRole('region', {
      name: 'Local delivery principles and the partnership’s response',
    });
  }
}

export type StatusLabel = 'Not started' | 'On track' | 'At risk' | 'Off track' | 'Complete';

/** "Record progress": a quarter, a status, what was done and a link to evidence, for one action. */
export class ProgressFormPage {
  constructor(readonly page: Page) {}

  quarter(quarter: 1 | 2 | 3 | 4): Locator {
    return this.page.getByRole('radio', { name: `Q${quarter}`, exact: true });
  }

  status(label: StatusLabel): Locator {
    return this.page.getByRole('radio', { name: label, exact: true });
  }

  progressText(): Locator {
    return this.page.getByLabel('Progress made', { exact: true });
  }

  async chooseQuarter(quarter: 1 | 2 | 3 | 4): Promise<void> {
    await this.quarter(quarter).check();
  }

  async chooseStatus(label: StatusLabel): Promise<void> {
    await this.status(label).check();
  }

  async fillProgress(text: string): Promise<void> {
    await this.progressText().fill(text);
  }

  evidenceLink(): Locator {
    return this.page.getByLabel('Link to evidence (optional)', { exact: true });
  }

  async fillEvidenceLink(url: string): Promise<void> {
    await this.evidenceLink().fill(url);
  }

  /** "Due by 14 April 2025", when the quarter was opened for updates. */
  dueDate(): Locator {
    return this.page.getByTestId('due-date');
  }

  /** "This update is late: …", once the due date has passed. */
  lateWarning(): Locator {
    return this.page.getByTestId('late-warning');
  }

  /** "Submitted on … (late)", "Accepted", …: where this quarter's update stands. */
  state(): Locator {
    return this.page.getByTestId('update-state');
  }

  /** Submits the update (the form's main button). */
  async save(): Promise<void> {
    await this.submit();
  }

  async submit(): Promise<void> {
    await this.page.getByRole('button', { name: 'Submit update', exact: true }).click();
  }

  async saveDraft(): Promise<void> {
    await this.page.getByRole('button', { name: 'Save as draft', exact: true }).click();
  }

  /** After the quarter was closed, the one button there is. */
  async saveAmendment(): Promise<void> {
    await this.page.getByRole('button', { name: 'Save amendment', exact: true }).click();
  }
}

/** "Your Q4 2024/25 updates": every action a lead officer leads, on one page. */
export class QuarterUpdatesPage {
  constructor(readonly page: Page) {}

  async goto(baseUrl: string, quarter: 1 | 2 | 3 | 4, planPath = DEMO_PLAN_PATH): Promise<void> {
    await this.page.goto(new URL(`${planPath}/quarters/${quarter}/updates`, baseUrl).toString());
    await this.expectShown(quarter);
  }

  async expectShown(quarter: 1 | 2 | 3 | 4): Promise<void> {
    await expectHeading(this.page, new RegExp(`^Your Q${quarter} \\d{4}/\\d{2} updates$`), { level: 1 });
  }

  /** The fieldset of one action: "Aim 3.1, action 1: …". */
  action(aim: string, index: number): Locator {
    return this.page.getByRole('group', {
      name: new RegExp(`^Aim ${escapeRegExp(aim)}, action ${index}:`),
    });
  }

  async chooseStatus(aim: string, index: number, label: StatusLabel): Promise<void> {
    await this.action(aim, index).getByRole('radio', { name: label, exact: true }).check();
  }

  async fillProgress(aim: string, index: number, text: string): Promise<void> {
    await this.action(aim, index).getByLabel('Progress made', { exact: true }).fill(text);
  }

  /** The state tags of one action ("Submitted", "Late", "No update yet", …). */
  async state(aim: string, index: number): Promise<string> {
    return textOf(this.action(aim, index).getByTestId(/^state-\d+$/));
  }

  async submitAll(): Promise<void> {
    await this.page.getByRole('button', { name: 'Submit all', exact: true }).click();
  }

  async saveAllAsDrafts(): Promise<void> {
    await this.page.getByRole('button', { name: 'Save all as drafts', exact: true }).click();
  }
}

/** The whole plan as one table, with filters whose choices travel in the address. */
export class DocumentPage {
  constructor(readonly page: Page) {}

  async chooseSection(number: number | ''): Promise<void> {
    await this.page.getByLabel('Section', { exact: true }).selectOption(String(number));
  }

  async chooseQuarter(quarter: 1 | 2 | 3 | 4 | ''): Promise<void> {
    await this.page.getByLabel('Progress in quarter', { exact: true }).selectOption(String(quarter));
  }

  chosen(label: 'Section' | 'Progress in quarter'): Promise<string> {
    return this.page.getByLabel(label, { exact: true }).inputValue();
  }

  async applyFilters(): Promise<void> {
    await this.page.getByRole('button', { name: 'Apply filters', exact: true }).click();
    // The filtered page has the same heading: wait for its address (a GET form adds the query) and load.
    await this.page.waitForURL(/\/document\?/);
  }

  async resultCount(): Promise<string> {
    return textOf(this.page.getByTestId('result-count'));
  }

  /** The aim number at the start of each row of the table, in order. */
  async rowAims(): Promise<string[]> {
    const rows = this.page.getByTestId('document-table').getByTestId(/^row-/);
    return (await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-testid') ?? ''))).map(
      (id) => id.replace(/^row-/, ''),
    );
  }
}

/** Searching the plan's aims, actions and progress. */
export class SearchPage {
  constructor(readonly page: Page) {}

  async search(words: string): Promise<void> {
    const form = this.page.getByRole('search');
    await form.getByLabel(/^Words to find/).fill(words);
    await form.getByRole('button', { name: 'Search', exact: true }).click();
    // The results page has the same heading: wait for the address that carries these words.
    await this.page.waitForURL((url) => url.searchParams.get('q') === words);
    await expectHeading(this.page, 'Search the plan', { level: 1 });
  }

  async resultCount(): Promise<string> {
    return textOf(this.page.getByTestId('search-count'));
  }

  results(): Locator {
    return this.page.getByTestId('search-results').getByRole('link');
  }
}

/** "Add an aim" and "Change aim": the coordinator's form for an aim. */
export class AimFormPage {
  constructor(readonly page: Page) {}

  number(): Locator {
    return this.page.getByLabel('Aim number', { exact: true });
  }

  async fillTitle(title: string): Promise<void> {
    await this.page.getByLabel('Aim', { exact: true }).fill(title);
  }

  async save(): Promise<void> {
    await this.page.getByRole('button', { name: 'Save aim', exact: true }).click();
  }
}

/** "Are you sure you want to archive …?" */
export class ArchivePage {
  constructor(readonly page: Page) {}

  async confirm(): Promise<void> {
    await this.page.getByRole('button', { name: 'Archive', exact: true }).click();
  }
}

// ——— The quarterly cycle: the coordinator's pages ———

/** A GOV.UK date input: fills its Day, Month and Year inside the fieldset with this legend. */
async function fillDate(page: Page, legend: string, date: { day: string; month: string; year: string }) {
  const group = page.getByRole('group', { name: legend });
  await group.getByLabel('Day', { exact: true }).fill(date.day);
  await group.getByLabel('Month', { exact: true }).fill(date.month);
  await group.getByLabel('Year', { exact: true }).fill(date.year);
}

/** "Quarterly updates 2024/25": the plan's four quarters and where each stands. */
export class QuartersPage {
  constructor(readonly page: Page) {}

  async expectShown(year = '2024/25'): Promise<void> {
    await expectHeading(this.page, `Quarterly updates ${year}`, { level: 1, exact: true });
  }

  async phase(quarter: 1 | 2 | 3 | 4): Promise<string> {
    return textOf(this.page.getByTestId(`quarter-${quarter}-phase`));
  }

  async openQuarterForm(quarter: 1 | 2 | 3 | 4): Promise<void> {
    await this.page.getByRole('link', { name: `Open Q${quarter} for updates`, exact: true }).click();
    await expectHeading(this.page, `Open Q${quarter} for updates`, { level: 1, exact: true });
  }
}

/** "Open Q4 for updates": a due date and the reminder days. */
export class OpenQuarterPage {
  constructor(
    readonly page: Page,
    readonly quarter: 1 | 2 | 3 | 4,
  ) {}

  async fillDueDate(day: string, month: string, year: string): Promise<void> {
    await fillDate(this.page, 'Due date', { day, month, year });
  }

  reminders(): Locator {
    return this.page.getByLabel('Reminders', { exact: true });
  }

  async open(): Promise<void> {
    await this.page
      .getByRole('button', { name: `Open Q${this.quarter} and email the lead officers`, exact: true })
      .click();
  }
}

/** A quarter's submission board: counts, filters, and a row per action. */
export class SubmissionBoardPage {
  constructor(
    readonly page: Page,
    readonly quarter: 1 | 2 | 3 | 4,
    readonly year = '2024/25',
  ) {}

  async expectShown(): Promise<void> {
    await expectHeading(this.page, `Q${this.quarter} ${this.year} updates`, { level: 1, exact: true });
  }

  /** Action `index` of aim `aim`: its row of the board. */
  row(aim: string, index: number): Locator {
    return this.page.getByTestId(`board-row-${aim}-${index}`);
  }

  async state(aim: string, index: number): Promise<string> {
    return textOf(this.row(aim, index).getByTestId('state'));
  }

  /** The aim and action of each row, as "3.1-1", in order. */
  async rowKeys(): Promise<string[]> {
    const rows = this.page.getByTestId('board').getByTestId(/^board-row-/);
    return (await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-testid') ?? ''))).map(
      (id) => id.replace(/^board-row-/, ''),
    );
  }

  async count(state: string): Promise<number> {
    return Number(await textOf(this.page.getByTestId(`count-${state}`).getByRole('cell')));
  }

  async filterByState(label: string): Promise<void> {
    await this.page.getByLabel('State', { exact: true }).selectOption({ label });
    await this.page.getByRole('button', { name: 'Apply filters', exact: true }).click();
    await this.page.waitForURL(/[?&]state=/);
  }

  async review(aim: string, index: number): Promise<void> {
    await this.row(aim, index)
      .getByRole('link', { name: /^Review/ })
      .click();
    await expectHeading(this.page, `Review the Q${this.quarter} update`, { level: 1, exact: true });
  }

  async closeQuarter(): Promise<void> {
    // A link styled as a button, and announced as one (GOV.UK Frontend gives it role="button").
    await this.page.getByRole('button', { name: `Close Q${this.quarter}`, exact: true }).click();
    await expectHeading(this.page, `Close Q${this.quarter} and report it to the board`, { level: 1 });
  }
}

/** JAG review of one update: accept it, or return it with a comment. */
export class ReviewUpdatePage {
  constructor(readonly page: Page) {}

  async choose(decision: 'Accept' | 'Return to the lead officer'): Promise<void> {
    await this.page.getByRole('radio', { name: decision, exact: true }).check();
  }

  async fillComment(text: string): Promise<void> {
    await this.page.getByLabel('Comment for the lead officer', { exact: true }).fill(text);
  }

  async save(): Promise<void> {
    await this.page.getByRole('button', { name: 'Save the review', exact: true }).click();
  }
}

/** "Close Q4 and report it to the board": what is outstanding, and the board's date. */
export class CloseQuarterPage {
  constructor(
    readonly page: Page,
    readonly quarter: 1 | 2 | 3 | 4,
  ) {}

  async fillBoardDate(day: string, month: string, year: string): Promise<void> {
    await fillDate(this.page, 'Date of the board meeting', { day, month, year });
  }

  async close(): Promise<void> {
    await this.page
      .getByRole('button', { name: `Close Q${this.quarter} and freeze the report`, exact: true })
      .click();
  }
}

/** "Q4 2024/25 as reported to the board on …": the frozen report. */
export class SnapshotPage {
  constructor(readonly page: Page) {}

  async expectShown(title: string): Promise<void> {
    await expectHeading(this.page, title, { level: 1, exact: true });
  }

  /** Action `index` of aim `aim`, as reported. */
  row(aim: string, index: number): Locator {
    return this.page.getByTestId(`snapshot-row-${aim}-${index}`);
  }
}
