/**
 * The coordinator's pages for the plan's structure: add, change, reorder and archive sections,
 * aims and actions. Every write goes through a service that checks the permission again.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatParties } from '../../domain/parties.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { findAction, findAim, type ActionNode, type PlanTree } from '../../services/plan-read.js';
import { formBody, formErrors } from '../forms.js';
import { loadPlanPage } from './plan.js';

type PlanParams = { slug: string; year: string };
type Page = Awaited<ReturnType<typeof loadPlanPage>>;

function requireEditor(page: Page): void {
  if (!page.canEdit)
    throw new ForbiddenError('Only the partnership’s coordinator can change the plan’s structure.');
}

function findSection(tree: PlanTree, id: number) {
  const section = tree.sections.find((s) => s.id === id);
  if (!section) throw new NotFoundError('The section');
  return section;
}

function actionValues(action: ActionNode) {
  return {
    description: action.description,
    leads: formatParties(action.leads),
    partners: formatParties(action.partners),
    resources: action.resources.join('\n'),
    expectedOutcomes: action.expectedOutcomes.join('\n'),
    version: action.version,
  };
}

/**
 * Runs a write and answers the form: back to the form with the error summary when the input is
 * wrong, a conflict notice (keeping what was typed) when someone changed it meanwhile.
 */
async function submit(
  reply: FastifyReply,
  template: string,
  view: Record<string, unknown>,
  values: Record<string, string>,
  write: () => Promise<unknown>,
  done: { flash: string; to: string },
): Promise<FastifyReply> {
  try {
    await write();
  } catch (error) {
    if (error instanceof ValidationError) {
      reply.code(400);
      return reply.page(template, { ...view, values, ...formErrors(error.problems) });
    }
    if (error instanceof ConflictError) {
      reply.code(409);
      const current = error.current as Record<string, unknown>;
      return reply.page(template, {
        ...view,
        values: { ...values, version: String(current.version) },
        conflict: { current },
      });
    }
    throw error;
  }
  reply.flash(done.flash);
  return reply.redirect(done.to, 303);
}

export function registerEditRoutes(app: FastifyInstance, services: Services): void {
  const editorPage = async (request: Parameters<typeof loadPlanPage>[1], params: PlanParams) => {
    const page = await loadPlanPage(services, request, params);
    requireEditor(page);
    return page;
  };

  /** An action's details: the coordinator, or the action's lead officers (who may not change its leads). */
  const actionDetailsPage = async (
    request: Parameters<typeof loadPlanPage>[1],
    params: PlanParams & { id: string },
  ) => {
    const page = await loadPlanPage(services, request, params);
    const found = findAction(page.tree, Number(params.id));
    if (!page.canEdit && !(await services.progress.mayUpdate(page.actor, found.action.id))) {
      throw new ForbiddenError('Only the coordinator and the action’s lead officers can change it.');
    }
    return { page, ...found };
  };

  // ——— Sections ———
  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/sections/new', async (request, reply) => {
    const page = await editorPage(request, request.params);
    const next = Math.max(0, ...page.tree.sections.map((s) => s.number)) + 1;
    return reply.page('edit/section.njk', {
      ...page.common,
      title: 'Add a section',
      values: { number: String(next) },
    });
  });

  app.post<{ Params: PlanParams }>('/p/:slug/plans/:year/sections/new', async (request, reply) => {
    const page = await editorPage(request, request.params);
    const values = formBody(request.body);
    return submit(
      reply,
      'edit/section.njk',
      { ...page.common, title: 'Add a section' },
      values,
      () => services.edit.createSection(page.actor, page.tree.plan.id, values),
      { flash: `Section ${values.number} has been added`, to: page.base },
    );
  });

  app.get<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/sections/:id/edit',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const section = findSection(page.tree, Number(request.params.id));
      return reply.page('edit/section.njk', {
        ...page.common,
        title: `Change section ${section.number}`,
        section,
        values: { number: String(section.number), title: section.title, version: String(section.version) },
      });
    },
  );

  app.post<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/sections/:id/edit',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const section = findSection(page.tree, Number(request.params.id));
      const values = formBody(request.body);
      return submit(
        reply,
        'edit/section.njk',
        { ...page.common, title: `Change section ${section.number}`, section },
        values,
        () => services.edit.updateSection(page.actor, section.id, values),
        { flash: `Section ${values.number} has been changed`, to: page.base },
      );
    },
  );

  // ——— Aims ———
  app.get<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/sections/:id/aims/new',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const section = findSection(page.tree, Number(request.params.id));
      const number = await services.edit.suggestAimNumber(section.id);
      return reply.page('edit/aim.njk', {
        ...page.common,
        title: `Add an aim to section ${section.number}`,
        section,
        values: { number },
      });
    },
  );

  app.post<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/sections/:id/aims/new',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const section = findSection(page.tree, Number(request.params.id));
      const values = formBody(request.body);
      const number = (values.number ?? '').trim();
      return submit(
        reply,
        'edit/aim.njk',
        { ...page.common, title: `Add an aim to section ${section.number}`, section },
        values,
        () => services.edit.createAim(page.actor, section.id, values),
        // The number as saved (trimmed): what was typed must not reach the Location header.
        { flash: `Aim ${number} has been added`, to: `${page.base}/aims/${number}` },
      );
    },
  );

  app.get<{ Params: PlanParams & { number: string } }>(
    '/p/:slug/plans/:year/aims/:number/edit',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const { section, aim } = findAim(page.tree, request.params.number);
      return reply.page('edit/aim.njk', {
        ...page.common,
        title: `Change aim ${aim.number}`,
        section,
        aim,
        values: { number: aim.number, title: aim.title, version: String(aim.version) },
      });
    },
  );

  app.post<{ Params: PlanParams & { number: string } }>(
    '/p/:slug/plans/:year/aims/:number/edit',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const { section, aim } = findAim(page.tree, request.params.number);
      const values = formBody(request.body);
      const number = (values.number ?? '').trim();
      return submit(
        reply,
        'edit/aim.njk',
        { ...page.common, title: `Change aim ${aim.number}`, section, aim },
        values,
        () => services.edit.updateAim(page.actor, aim.id, values),
        { flash: `Aim ${number} has been changed`, to: `${page.base}/aims/${number}` },
      );
    },
  );

  // ——— Actions ———
  app.get<{ Params: PlanParams & { number: string } }>(
    '/p/:slug/plans/:year/aims/:number/actions/new',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const { section, aim } = findAim(page.tree, request.params.number);
      return reply.page('edit/action.njk', {
        ...page.common,
        title: `Add an action to aim ${aim.number}`,
        section,
        aim,
        values: {},
      });
    },
  );

  app.post<{ Params: PlanParams & { number: string } }>(
    '/p/:slug/plans/:year/aims/:number/actions/new',
    async (request, reply) => {
      const page = await editorPage(request, request.params);
      const { section, aim } = findAim(page.tree, request.params.number);
      const values = formBody(request.body);
      return submit(
        reply,
        'edit/action.njk',
        { ...page.common, title: `Add an action to aim ${aim.number}`, section, aim },
        values,
        () => services.edit.createAction(page.actor, aim.id, values),
        { flash: `An action has been added to aim ${aim.number}`, to: `${page.base}/aims/${aim.number}` },
      );
    },
  );

  app.get<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/actions/:id/edit',
    async (request, reply) => {
      const { page, section, aim, action } = await actionDetailsPage(request, request.params);
      return reply.page('edit/action.njk', {
        ...page.common,
        title: `Change an action of aim ${aim.number}`,
        section,
        aim,
        action,
        canChangeLeads: page.canEdit,
        values: actionValues(action),
      });
    },
  );

  app.post<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/actions/:id/edit',
    async (request, reply) => {
      const { page, section, aim, action } = await actionDetailsPage(request, request.params);
      const values = formBody(request.body);
      return submit(
        reply,
        'edit/action.njk',
        {
          ...page.common,
          title: `Change an action of aim ${aim.number}`,
          section,
          aim,
          action,
          canChangeLeads: page.canEdit,
        },
        values,
        () => services.edit.updateAction(page.actor, action.id, values),
        { flash: `The action of aim ${aim.number} has been changed`, to: `${page.base}/aims/${aim.number}` },
      );
    },
  );

  // ——— Archive (with a confirmation page) and reorder ———
  type Kind = 'section' | 'aim' | 'action';
  const describe = (page: Page, kind: Kind, id: string) => {
    if (kind === 'section') {
      const s = findSection(page.tree, Number(id));
      return { id: s.id, version: s.version, name: `section ${s.number}. ${s.title}`, back: page.base };
    }
    if (kind === 'aim') {
      const { aim } = findAim(page.tree, id);
      return {
        id: aim.id,
        version: aim.version,
        name: `aim ${aim.number} ${aim.title}`,
        back: `${page.base}/aims/${aim.number}`,
        after: page.base,
      };
    }
    const { aim, action } = findAction(page.tree, Number(id));
    return {
      id: action.id,
      version: action.version,
      name: `the action “${action.description.split('\n')[0]}” of aim ${aim.number}`,
      back: `${page.base}/aims/${aim.number}`,
    };
  };
  const segment: Record<Kind, string> = { section: 'sections', aim: 'aims', action: 'actions' };

  for (const kind of ['section', 'aim', 'action'] as const) {
    const path = `/p/:slug/plans/:year/${segment[kind]}/:id`;

    app.get<{ Params: PlanParams & { id: string } }>(`${path}/archive`, async (request, reply) => {
      const page = await editorPage(request, request.params);
      const item = describe(page, kind, request.params.id);
      return reply.page('edit/archive.njk', { ...page.common, title: `Archive ${item.name}`, item, kind });
    });

    app.post<{ Params: PlanParams & { id: string } }>(`${path}/archive`, async (request, reply) => {
      const page = await editorPage(request, request.params);
      const item = describe(page, kind, request.params.id);
      const version = Number(formBody(request.body).version);
      const archive = {
        section: services.edit.archiveSection,
        aim: services.edit.archiveAim,
        action: services.edit.archiveAction,
      }[kind];
      try {
        await archive(page.actor, item.id, version);
      } catch (error) {
        if (error instanceof ConflictError) {
          reply.code(409);
          return reply.page('edit/archive.njk', {
            ...page.common,
            title: `Archive ${item.name}`,
            item,
            kind,
            conflict: true,
          });
        }
        throw error;
      }
      reply.flash(`You archived ${item.name}. It no longer shows in the live plan; its history is kept.`);
      return reply.redirect(('after' in item && item.after) || item.back, 303);
    });

    app.post<{ Params: PlanParams & { id: string } }>(`${path}/move`, async (request, reply) => {
      const page = await editorPage(request, request.params);
      const item = describe(page, kind, request.params.id);
      const direction = formBody(request.body).direction === 'up' ? 'up' : 'down';
      await services.edit.move(page.actor, kind, item.id, direction);
      return reply.redirect(kind === 'action' ? item.back : page.base, 303);
    });
  }
}
