import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
let coordinator: Session;
beforeAll(async () => {
  t = await createTestApp();
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
});
afterAll(async () => {
  await t?.close();
});

const base = '/p/sosafe/plans/2024-25';

describe('the coordinator edits the plan through its pages', () => {
  it('adds a section, an aim in it and an action, which then show in the plan', async () => {
    const section = await coordinator.post(`${base}/sections/new`, {
      number: '6',
      title: 'Reduce retail crime',
    });
    expect(section.statusCode).toBe(303);
    const plan = await coordinator.get(base);
    const sectionId =
      /sections\/(\d+)\/aims\/new">Add an aim<span class="govuk-visually-hidden"> to section 6/.exec(
        plan.body,
      )?.[1];
    expect(sectionId).toBeDefined();

    const form = await coordinator.get(`${base}/sections/${sectionId}/aims/new`);
    expect(form.body).toContain('value="6.1"'); // the suggested number
    const aim = await coordinator.post(`${base}/sections/${sectionId}/aims/new`, {
      number: '6.1',
      title: 'Shop Watch',
    });
    expect(aim.statusCode).toBe(303);
    expect(aim.headers.location).toBe(`${base}/aims/6.1`);

    const action = await coordinator.post(`${base}/aims/6.1/actions/new`, {
      description: 'Relaunch the Shop Watch radio scheme',
      leads: 'SBC: Jessica Warren',
      partners: 'Police: NPT Inspector\nTown centre retailers',
      resources: 'Radios',
      expectedOutcomes: 'Fewer repeat shop thefts',
    });
    expect(action.statusCode).toBe(303);
    const page = await coordinator.get(`${base}/aims/6.1`);
    expect(page.body).toContain('Relaunch the Shop Watch radio scheme');
    expect(page.body).toContain('Town centre retailers');
    expect(page.body).toMatch(/<abbr title="Stevenage Borough Council">SBC<\/abbr> \(Jessica Warren\)/);
  });

  it('re-shows a form with the error summary and what was typed', async () => {
    const response = await coordinator.post(`${base}/aims/6.1/edit`, {
      number: '9',
      title: 'Kept text',
      version: '1',
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('govuk-error-summary');
    expect(response.body).toContain('Enter the aim number like 3.1');
    expect(response.body).toContain('Kept text');
  });

  it('archives an action after confirmation; it leaves the live plan', async () => {
    const page = await coordinator.get(`${base}/aims/6.1`);
    const actionId = /actions\/(\d+)\/archive/.exec(page.body)?.[1];
    expect(actionId).toBeDefined();
    const confirm = await coordinator.get(`${base}/actions/${actionId}/archive`);
    expect(confirm.body).toContain('Are you sure you want to archive');
    const archived = await coordinator.post(`${base}/actions/${actionId}/archive`, {
      version: /name="version" value="(\d+)"/.exec(confirm.body)![1]!,
    });
    expect(archived.statusCode).toBe(303);
    const after = await coordinator.get(`${base}/aims/6.1`);
    expect(after.body).toContain('You archived the action “Relaunch the Shop Watch radio scheme” of aim 6.1');
    expect(after.body).not.toContain('data-testid="action-1"');
    expect(after.body).toContain('This aim has no actions yet.');
  });

  it('moves an aim down and back up', async () => {
    const order = async () =>
      [...(await coordinator.get(base)).body.matchAll(/data-testid="aim-(1\.\d)"/g)].map((m) => m[1]);
    expect(await order()).toEqual(['1.1', '1.2', '1.3']);
    await coordinator.post(base, { direction: 'down' }, `${base}/aims/1.1/move`);
    expect(await order()).toEqual(['1.2', '1.1', '1.3']);
    await coordinator.post(base, { direction: 'up' }, `${base}/aims/1.1/move`);
    expect(await order()).toEqual(['1.1', '1.2', '1.3']);
  });
});

describe('everyone else', () => {
  it('cannot open or submit the coordinator’s forms', async () => {
    for (const email of [DEMO.lead, DEMO.partner, DEMO.board]) {
      const s = new Session(t.app);
      await s.signIn(email);
      expect((await s.get(`${base}/sections/new`)).statusCode).toBe(403);
      expect((await s.get(`${base}/aims/3.1/edit`)).statusCode).toBe(403);
      const plan = await s.get(base);
      expect(plan.body).not.toContain('Add a section');
      const token = /name="_csrf" value="([^"]+)"/.exec(plan.body)![1]!;
      const attempt = await s.postRaw(`${base}/sections/new`, {
        _csrf: token,
        number: '7',
        title: 'Not allowed',
      });
      expect(attempt.statusCode).toBe(403);
    }
    expect((await coordinator.get(base)).body).not.toContain('Not allowed');
  });
});
