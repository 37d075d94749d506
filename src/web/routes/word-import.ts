/**
 * Importing a Word action plan: read its tables, preview and correct, then save. The coordinator
 * uploads a DOCX, checks what was read on one page (the plan year, what each column heading was
 * taken as, sections and aims, each action's lead and partners, what to leave out), and saves it
 * as a new plan year. Every step is
 * a plain form; the services check the permission again and write.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WORD_PLAN_FIELD_LABELS, WORD_PLAN_FIELDS } from '../../documents/word-plan.js';
import { canEditPlanStructure } from '../../domain/permissions.js';
import { planYearSlug } from '../../domain/quarters.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { partiesText, wordImportFields, type WordImportPreview } from '../../services/word-import.js';
import { partnershipContext } from '../context.js';
import { formErrors, uploadedFile } from '../forms.js';

type Slug = { slug: string };
type SlugId = { slug: string; id: string };

function uploadId(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new NotFoundError('The uploaded Word plan');
  return Number(value);
}

/** Form bodies as the services take them: repeated fields (the checkboxes) stay lists. */
function formInput(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' ? { ...(body as Record<string, unknown>) } : {};
}

/** A form's fields as typed, to show again beside its errors. */
function typedValues(body: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.filter((v): v is string => typeof v === 'string');
  }
  return out;
}

const COLUMN_CHOICES = [
  ...WORD_PLAN_FIELDS.map((field) => ({ value: field, text: WORD_PLAN_FIELD_LABELS[field] })),
  { value: 'ignore', text: 'Not used' },
];

export function registerWordImportRoutes(app: FastifyInstance, services: Services): void {
  const importPage = async (request: FastifyRequest, slug: string) => {
    const context = await partnershipContext(services, request, slug);
    if (!canEditPlanStructure(context.member, context.partnership.id)) {
      throw new ForbiddenError('Only the partnership’s coordinator can import a Word plan.');
    }
    const year = await services.plans.currentPlanYear(context.actor, context.partnership);
    const base = year ? `/p/${context.partnership.slug}/plans/${planYearSlug(year)}` : undefined;
    const start = `/p/${context.partnership.slug}/word-import`;
    return {
      ...context,
      start,
      common: { partnership: context.partnership, member: context.member, base, start },
    };
  };

  const uploadForm = (
    reply: FastifyReply,
    page: Awaited<ReturnType<typeof importPage>>,
    extra: object = {},
  ) =>
    reply.page('word-import/upload.njk', {
      ...page.common,
      title: 'Import a plan from a Word document',
      ...extra,
    });

  const previewPage = (
    reply: FastifyReply,
    page: Awaited<ReturnType<typeof importPage>>,
    preview: WordImportPreview,
    extra: { values?: Record<string, string | string[]>; errorList?: unknown; errors?: unknown } = {},
  ) => {
    const action = `${page.start}/${preview.id}`;
    if (preview.saved) {
      return reply.page('word-import/saved.njk', {
        ...page.common,
        title: `The ${preview.saved.year} plan has been imported`,
        preview,
        planHref: `/p/${page.partnership.slug}/plans/${planYearSlug(preview.saved.year)}`,
      });
    }
    const values = extra.values;
    const value = (name: string, shown: unknown) =>
      values && name in values ? values[name] : shown === null || shown === undefined ? '' : String(shown);
    const leaveOut = new Set(
      values
        ? [values[wordImportFields.leaveOut] ?? []].flat()
        : preview.sections.flatMap((s) => [
            ...(s.leftOut ? [s.key] : []),
            ...s.aims.flatMap((a) => [
              ...(a.leftOut && !s.leftOut ? [a.key] : []),
              ...a.actions.filter((c) => c.leftOut && !a.leftOut).map((c) => c.key),
            ]),
          ]),
    );
    const year = String(value('year', preview.year));
    return reply.page('word-import/preview.njk', {
      ...page.common,
      title: 'Check the plan read from the Word document',
      preview,
      action,
      saveAction: `${action}/save`,
      f: {
        year: 'year',
        title: 'title',
        leaveOut: wordImportFields.leaveOut,
      },
      yearItems: preview.yearChoices.map((y) => ({ value: y, text: y, selected: y === year })),
      titleValue: value('title', preview.title),
      headings: preview.headings.map((heading, index) => {
        const name = wordImportFields.heading(index);
        const chosen = String(value(name, heading.field ?? 'ignore'));
        return {
          ...heading,
          name,
          recognisedLabel: heading.recognised ? WORD_PLAN_FIELD_LABELS[heading.recognised] : 'Not recognised',
          items: COLUMN_CHOICES.map((c) => ({ ...c, selected: c.value === chosen })),
        };
      }),
      sections: preview.sections.map((section) => ({
        ...section,
        numberName: wordImportFields.sectionNumber(section.key),
        titleName: wordImportFields.sectionTitle(section.key),
        numberValue: value(wordImportFields.sectionNumber(section.key), section.number),
        titleValue: value(wordImportFields.sectionTitle(section.key), section.title),
        leaveOutChecked: leaveOut.has(section.key),
        aims: section.aims.map((aim) => ({
          ...aim,
          numberName: wordImportFields.aimNumber(aim.key),
          titleName: wordImportFields.aimTitle(aim.key),
          numberValue: value(wordImportFields.aimNumber(aim.key), aim.number),
          titleValue: value(wordImportFields.aimTitle(aim.key), aim.title),
          leaveOutChecked: leaveOut.has(aim.key),
          actions: aim.actions.map((action, index) => ({
            ...action,
            index: index + 1,
            leadsName: wordImportFields.actionLeads(action.key),
            partnersName: wordImportFields.actionPartners(action.key),
            leadsValue: value(wordImportFields.actionLeads(action.key), partiesText(action.leads)),
            partnersValue: value(wordImportFields.actionPartners(action.key), partiesText(action.partners)),
            leaveOutChecked: leaveOut.has(action.key),
          })),
        })),
      })),
      ...extra,
    });
  };

  app.get<{ Params: Slug }>('/p/:slug/word-import', async (request, reply) => {
    const page = await importPage(request, request.params.slug);
    return uploadForm(reply, page);
  });

  app.post<{ Params: Slug }>('/p/:slug/word-import', async (request, reply) => {
    const page = await importPage(request, request.params.slug);
    let created;
    try {
      created = await services.wordImport.upload(
        page.actor,
        page.partnership.id,
        uploadedFile(request.body, 'file'),
      );
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return uploadForm(reply, page, formErrors(error.problems));
      }
      throw error;
    }
    return reply.redirect(`${page.start}/${created.id}`, 303);
  });

  app.get<{ Params: SlugId }>('/p/:slug/word-import/:id', async (request, reply) => {
    const page = await importPage(request, request.params.slug);
    const preview = await services.wordImport.preview(
      page.actor,
      page.partnership.id,
      uploadId(request.params.id),
    );
    return previewPage(reply, page, preview);
  });

  app.post<{ Params: SlugId }>('/p/:slug/word-import/:id', async (request, reply) => {
    const page = await importPage(request, request.params.slug);
    const id = uploadId(request.params.id);
    const input = formInput(request.body);
    try {
      await services.wordImport.correct(page.actor, page.partnership.id, id, input);
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        const preview = await services.wordImport.preview(page.actor, page.partnership.id, id);
        return previewPage(reply, page, preview, {
          values: typedValues(input),
          ...formErrors(error.problems),
        });
      }
      throw error;
    }
    reply.flash('The preview shows your changes. Check it, then save the plan.');
    return reply.redirect(`${page.start}/${id}`, 303);
  });

  app.post<{ Params: SlugId }>('/p/:slug/word-import/:id/save', async (request, reply) => {
    const page = await importPage(request, request.params.slug);
    const id = uploadId(request.params.id);
    const input = formInput(request.body);
    try {
      await services.wordImport.save(page.actor, page.partnership.id, id, input);
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        const preview = await services.wordImport.preview(page.actor, page.partnership.id, id);
        return previewPage(reply, page, preview, {
          values: typedValues(input),
          ...formErrors(error.problems),
        });
      }
      throw error;
    }
    return reply.redirect(`${page.start}/${id}`, 303);
  });
}
