/**
 * Evidence: fly-tipping and graffiti counts from a council CSV, and DEFRA's fly-tipping table.
 * Members read the page and its CSVs; the coordinator uploads a council CSV (upload → mapping →
 * preview → confirm), sets the district and its neighbours, and imports DEFRA's sheets. Thin: the
 * services (local-incidents.ts) check permission again and do the work.
 */
import { countOf } from '../../domain/text.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  defraIncidentsChartSvg,
  defraIncidentsTable,
  defraPerThousandTable,
  incidentTableCsv,
  isIncidentTableId,
  monthlyChartSvg,
  monthlyTable,
  NOT_AVAILABLE,
  perThousand,
  perThousandChartSvg,
  populationYears,
  type IncidentTable,
} from '../../documents/incident-charts.js';
import {
  describeProblem,
  INCIDENT_KIND_LABELS,
  INCIDENT_KINDS,
  type IncidentMapping,
  type IncidentProblem,
} from '../../documents/incident-csv.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import {
  DefraFileError,
  WHOLE_FILE,
  type IncidentMappingForm,
  type IncidentsOverview,
} from '../../services/local-incidents.js';
import { formBody, formErrors, uploadedFile } from '../forms.js';
import { evidencePage } from './evidence.js';

type SlugParams = { slug: string };
type UploadParams = SlugParams & { upload: string };
type Page = Awaited<ReturnType<typeof evidencePage>>;

const MANAGE_REFUSED = 'Only the partnership’s coordinator can bring in or change its incident data';
/** The most problems the error summary lists; the table under it lists more. */
const SUMMARY_LIMIT = 20;
const PROBLEMS_LISTED = 200;

function requireManage(page: Page): void {
  if (!page.canManage) throw new ForbiddenError(MANAGE_REFUSED);
}

function uploadIdOf(params: UploadParams): number {
  if (!/^\d{1,9}$/.test(params.upload)) throw new NotFoundError('The upload');
  return Number(params.upload);
}

function problemSummary(problems: readonly IncidentProblem[], href = '#problems') {
  const list = problems.slice(0, SUMMARY_LIMIT).map((p) => ({ text: describeProblem(p), href }));
  if (problems.length > SUMMARY_LIMIT) {
    list.push({ text: `and ${problems.length - SUMMARY_LIMIT} more: see the list of problems`, href });
  }
  return list;
}

function problemRows(problems: readonly IncidentProblem[]) {
  return problems.slice(0, PROBLEMS_LISTED).map((p) => ({
    line: p.line === undefined ? '' : String(p.line),
    column: p.column ?? '',
    message: p.message,
  }));
}

const yearLabel = (year: string) => year.replace('-', '/');

/** The figures of each chart in words, read in place of the picture. */
function describeMonthly(overview: IncidentsOverview): string {
  return overview.kindsHeld
    .map((k) => {
      const held = overview.months.filter((m) => m.counts[k] !== null);
      const total = held.reduce((n, m) => n + m.counts[k]!, 0);
      const top = held.reduce((a, b) => (b.counts[k]! > a.counts[k]! ? b : a));
      return (
        `${INCIDENT_KIND_LABELS[k]}: ${countOf(total, 'incident')} in ${countOf(held.length, 'month')}, ` +
        `from ${held[0]!.counts[k]} in ${held[0]!.label} to ${held.at(-1)!.counts[k]} in ${held.at(-1)!.label}; ` +
        `most ${top.counts[k]} in ${top.label}`
      );
    })
    .join('. ');
}

function describeDefra(overview: IncidentsOverview): string {
  const { years, authorities } = overview.defra;
  return authorities
    .map((a) => {
      const given = years.filter((y) => a.incidents[y] !== null);
      if (!given.length) return `${a.name}: ${NOT_AVAILABLE}`;
      const first = given[0]!;
      const last = given.at(-1)!;
      return `${a.name}${a.isDistrict ? ' (district)' : ''}: ${a.incidents[first]!.toLocaleString('en-GB')} in ${yearLabel(first)}, ${a.incidents[last]!.toLocaleString('en-GB')} in ${yearLabel(last)}`;
    })
    .join('; ');
}

function tablesOf(overview: IncidentsOverview): IncidentTable[] {
  const { years, authorities } = overview.defra;
  return [
    monthlyTable(overview.months),
    defraIncidentsTable(years, authorities),
    defraPerThousandTable(years, authorities),
  ];
}

async function chartsOf(overview: IncidentsOverview, partnershipName: string) {
  const { years, authorities, district } = overview.defra;
  const rateYear = populationYears(years, authorities).at(-1);
  const [monthly, defra, rates] = await Promise.all([
    overview.months.length
      ? monthlyChartSvg(overview.months, {
          id: 'chart-monthly',
          title: `Fly-tipping and graffiti incidents by month, ${partnershipName}`,
          description: describeMonthly(overview),
        })
      : null,
    district
      ? defraIncidentsChartSvg(years, authorities, {
          id: 'chart-defra-incidents',
          title: `Fly-tipping incidents by year: ${district.name} beside its neighbours (DEFRA)`,
          description: describeDefra(overview),
        })
      : null,
    district && rateYear
      ? perThousandChartSvg(rateYear, authorities, {
          id: 'chart-defra-per-1000',
          title: `Fly-tipping incidents per 1,000 people in ${yearLabel(rateYear)}: ${district.name} beside its neighbours`,
          description: authorities
            .map((a) => {
              const rate = perThousand(a.incidents[rateYear] ?? null, a.population[rateYear] ?? null);
              return `${a.name}${a.isDistrict ? ' (district)' : ''}: ${rate === null ? NOT_AVAILABLE : rate.toFixed(1)}`;
            })
            .join('; '),
        })
      : null,
  ]);
  return { monthly, 'defra-incidents': defra, 'defra-per-1000': rates, rateYear };
}

/** The mapping form's values as the form shows them. */
function mappingValues(mapping: IncidentMapping): Record<string, string> {
  return {
    dateColumn: mapping.dateColumn,
    kindColumn: mapping.kindColumn ?? WHOLE_FILE,
    wholeKind: mapping.wholeKind ?? '',
    flyTippingValues: mapping.flyTippingValues.join('\n'),
    graffitiValues: mapping.graffitiValues.join('\n'),
    countColumn: mapping.countColumn ?? '',
    skipUnreadable: mapping.skipUnreadable ? 'yes' : '',
  };
}

/** Checkbox and multiple-select fields arrive as a string or an array of strings. */
function listField(body: unknown, name: string): string[] {
  if (!body || typeof body !== 'object') return [];
  const value = (body as Record<string, unknown>)[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function registerLocalIncidentRoutes(app: FastifyInstance, services: Services): void {
  const base = (page: Page) => `${page.evidence}/incidents`;

  const page = (request: FastifyRequest, params: SlugParams) => evidencePage(services, request, params.slug);

  // ——— The page and its CSVs ———

  app.get<{ Params: SlugParams }>('/p/:slug/evidence/incidents', async (request, reply) => {
    const p = await page(request, request.params);
    const overview = await services.localIncidents.overview(p.actor, p.partnership);
    const tables = tablesOf(overview);
    const charts = await chartsOf(overview, p.partnership.name);
    return reply.page('evidence/incidents.njk', {
      ...p.common,
      title: 'Fly-tipping and graffiti',
      canManage: p.canManage,
      incidents: base(p),
      overview,
      rateYear: charts.rateYear ? yearLabel(charts.rateYear) : null,
      tables: Object.fromEntries(
        tables.map((t) => [
          t.id,
          { ...t, csvHref: `${base(p)}/${t.id}.csv`, svg: charts[t.id as keyof typeof charts] ?? null },
        ]),
      ),
    });
  });

  app.get<{ Params: SlugParams & { table: string } }>(
    '/p/:slug/evidence/incidents/:table.csv',
    async (request, reply) => {
      const p = await page(request, request.params);
      const id = request.params.table;
      if (!isIncidentTableId(id)) throw new NotFoundError(`The table "${id}"`);
      const overview = await services.localIncidents.overview(p.actor, p.partnership);
      const table = tablesOf(overview).find((t) => t.id === id)!;
      const slug = p.partnership.slug.replace(/[^\w-]/g, '');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${slug}-${id}.csv"`)
        .header('cache-control', 'no-store')
        .send(incidentTableCsv(table));
    },
  );

  // ——— A council CSV: upload, mapping, preview, confirm ———

  const uploadPage = (
    reply: FastifyReply,
    p: Page,
    extra: {
      errorList?: { text: string; href: string }[];
      errors?: Record<string, { text: string }>;
      problems?: IncidentProblem[];
    } = {},
  ) =>
    reply.page('evidence/incidents-upload.njk', {
      ...p.common,
      title: 'Upload the council’s fly-tipping and graffiti records',
      incidents: base(p),
      action: `${base(p)}/upload`,
      ...extra,
      problemRows: extra.problems ? problemRows(extra.problems) : undefined,
    });

  app.get<{ Params: SlugParams }>('/p/:slug/evidence/incidents/upload', async (request, reply) => {
    const p = await page(request, request.params);
    requireManage(p);
    return uploadPage(reply, p);
  });

  app.post<{ Params: SlugParams }>('/p/:slug/evidence/incidents/upload', async (request, reply) => {
    const p = await page(request, request.params);
    requireManage(p);
    const file = uploadedFile(request.body, 'file');
    if (!file) {
      reply.code(400);
      const message = 'Select the council’s CSV file';
      return uploadPage(reply, p, {
        errorList: [{ text: message, href: '#file' }],
        errors: { file: { text: message } },
      });
    }
    const result = await services.localIncidents.upload(p.actor, p.partnership, {
      filename: file.filename,
      data: file.data,
    });
    if (!result.ok) {
      reply.code(400);
      return uploadPage(reply, p, {
        errorList: problemSummary(result.problems, '#file'),
        errors: { file: { text: `${file.filename} cannot be read: nothing was imported` } },
        problems: result.problems,
      });
    }
    return reply.redirect(`${base(p)}/uploads/${result.uploadId}`, 303);
  });

  const mappingPage = (
    reply: FastifyReply,
    p: Page,
    form: IncidentMappingForm,
    values: Record<string, string>,
    extra: {
      errorList?: { text: string; href: string }[];
      errors?: Record<string, { text: string }>;
      problems?: IncidentProblem[];
    } = {},
  ) => {
    const columnItems = (selected: string, first?: { value: string; text: string }) => [
      ...(first ? [{ ...first, selected: selected === first.value }] : []),
      ...form.columns.map((c) => ({ value: c.name, text: c.name, selected: c.name === selected })),
    ];
    return reply.page('evidence/incidents-mapping.njk', {
      ...p.common,
      title: 'Say what the file’s columns hold',
      incidents: base(p),
      action: `${base(p)}/uploads/${form.uploadId}`,
      form,
      values,
      dateItems: columnItems(values.dateColumn ?? ''),
      kindItems: columnItems(values.kindColumn ?? '', {
        value: WHOLE_FILE,
        text: 'None: the whole file is one kind',
      }),
      countItems: columnItems(values.countColumn ?? '', {
        value: '',
        text: 'None: each row is one incident',
      }),
      wholeKindItems: INCIDENT_KINDS.map((k) => ({
        value: k,
        text: INCIDENT_KIND_LABELS[k],
        checked: values.wholeKind === k,
      })),
      ...extra,
      problemRows: extra.problems ? problemRows(extra.problems) : undefined,
      moreProblems:
        extra.problems && extra.problems.length > PROBLEMS_LISTED
          ? extra.problems.length - PROBLEMS_LISTED
          : 0,
    });
  };

  app.get<{ Params: UploadParams }>('/p/:slug/evidence/incidents/uploads/:upload', async (request, reply) => {
    const p = await page(request, request.params);
    requireManage(p);
    const form = await services.localIncidents.mappingForm(
      p.actor,
      p.partnership,
      uploadIdOf(request.params),
    );
    return mappingPage(reply, p, form, mappingValues(form.mapping));
  });

  app.post<{ Params: UploadParams }>(
    '/p/:slug/evidence/incidents/uploads/:upload',
    async (request, reply) => {
      const p = await page(request, request.params);
      requireManage(p);
      const uploadId = uploadIdOf(request.params);
      const values = formBody(request.body);
      let result;
      try {
        result = await services.localIncidents.map(p.actor, p.partnership, uploadId, values);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        reply.code(400);
        const form = await services.localIncidents.mappingForm(p.actor, p.partnership, uploadId);
        return mappingPage(reply, p, form, values, formErrors(error.problems));
      }
      if (!result.ok) {
        reply.code(400);
        const form = await services.localIncidents.mappingForm(p.actor, p.partnership, uploadId);
        const count = result.problems.length;
        return mappingPage(reply, p, form, values, {
          errorList: problemSummary(result.problems),
          problems: result.problems,
          errors: {
            problems: {
              text: `${countOf(count, 'row')} cannot be read with this mapping: nothing was imported. Correct the file and upload it again, choose other columns, or leave such rows out.`,
            },
          },
        });
      }
      return reply.redirect(`${base(p)}/uploads/${uploadId}/preview`, 303);
    },
  );

  app.get<{ Params: UploadParams }>(
    '/p/:slug/evidence/incidents/uploads/:upload/preview',
    async (request, reply) => {
      const p = await page(request, request.params);
      requireManage(p);
      const uploadId = uploadIdOf(request.params);
      const preview = await services.localIncidents.preview(p.actor, p.partnership, uploadId);
      return reply.page('evidence/incidents-preview.njk', {
        ...p.common,
        title: 'Check the counts before importing them',
        incidents: base(p),
        action: `${base(p)}/uploads/${uploadId}/preview`,
        mappingHref: `${base(p)}/uploads/${uploadId}`,
        preview,
        kinds: INCIDENT_KINDS.map((k) => ({ id: k, label: INCIDENT_KIND_LABELS[k] })),
        kindLabels: INCIDENT_KIND_LABELS,
        ignoredRows: preview.counts.ignored.reduce((n, v) => n + v.rows, 0),
        unreadableRows: problemRows(preview.counts.unreadable),
      });
    },
  );

  app.post<{ Params: UploadParams }>(
    '/p/:slug/evidence/incidents/uploads/:upload/preview',
    async (request, reply) => {
      const p = await page(request, request.params);
      requireManage(p);
      const result = await services.localIncidents.confirm(
        p.actor,
        p.partnership,
        uploadIdOf(request.params),
      );
      const kinds = result.kinds.map((k) => INCIDENT_KIND_LABELS[k].toLowerCase()).join(' and ');
      reply.flash(
        `Imported ${kinds} counts for ${countOf(result.months, 'month')} from ${result.filename}` +
          (result.replaced ? `, replacing ${countOf(result.replaced, 'count')} held before` : ''),
      );
      return reply.redirect(base(p), 303);
    },
  );

  // ——— Settings: the district, its neighbours, DEFRA's table ———

  const settingsPage = async (
    reply: FastifyReply,
    p: Page,
    extra: {
      values?: { districtCode: string; neighbourCodes: string[] };
      errorList?: { text: string; href: string }[];
      errors?: Record<string, { text: string }>;
      conflict?: boolean;
      defraProblems?: string[];
    } = {},
  ) => {
    const form = await services.localIncidents.settingsForm(p.actor, p.partnership);
    const values = extra.values ?? form.values;
    const regions = [...new Set(form.authorities.map((a) => a.region))];
    return reply.page('evidence/incidents-settings.njk', {
      ...p.common,
      title: 'Incident data settings',
      incidents: base(p),
      action: `${base(p)}/settings`,
      defraAction: `${base(p)}/settings/defra`,
      version: form.settings.version === null ? '' : String(form.settings.version),
      guessed: form.guessed && !extra.values,
      hasAuthorities: form.authorities.length > 0,
      districtItems: [
        { value: '', text: 'Choose the district', selected: values.districtCode === '' },
        ...form.authorities.map((a) => ({
          value: a.code,
          text: `${a.name} (${a.code})`,
          selected: a.code === values.districtCode,
        })),
      ],
      neighbourGroups: regions.map((region) => ({
        region,
        items: form.authorities
          .filter((a) => a.region === region)
          .map((a) => ({
            value: a.code,
            text: a.name,
            hint: { text: a.code },
            checked: values.neighbourCodes.includes(a.code),
          })),
      })),
      ...extra,
    });
  };

  app.get<{ Params: SlugParams }>('/p/:slug/evidence/incidents/settings', async (request, reply) => {
    const p = await page(request, request.params);
    requireManage(p);
    return settingsPage(reply, p);
  });

  app.post<{ Params: SlugParams }>('/p/:slug/evidence/incidents/settings', async (request, reply) => {
    const p = await page(request, request.params);
    requireManage(p);
    const { districtCode = '', version } = formBody(request.body);
    const neighbourCodes = listField(request.body, 'neighbourCodes');
    try {
      await services.localIncidents.saveSettings(p.actor, p.partnership, {
        districtCode,
        neighbourCodes,
        version,
      });
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return settingsPage(reply, p, {
          values: { districtCode, neighbourCodes },
          ...formErrors(error.problems),
        });
      }
      if (error instanceof ConflictError) {
        reply.code(409);
        return settingsPage(reply, p, { values: { districtCode, neighbourCodes }, conflict: true });
      }
      throw error;
    }
    reply.flash('Saved the district and its neighbours');
    return reply.redirect(base(p), 303);
  });

  app.post<{ Params: SlugParams }>('/p/:slug/evidence/incidents/settings/defra', async (request, reply) => {
    const p = await page(request, request.params);
    requireManage(p);
    const file = uploadedFile(request.body, 'defraFile');
    const refuse = (message: string, problems?: string[]) => {
      reply.code(400);
      return settingsPage(reply, p, {
        errorList: problems
          ? problems.slice(0, SUMMARY_LIMIT).map((text) => ({ text, href: '#defraFile' }))
          : [{ text: message, href: '#defraFile' }],
        errors: { defraFile: { text: message } },
        defraProblems: problems,
      });
    };
    if (!file) return refuse('Select DEFRA’s LA_incidents or LA_actions CSV file');
    try {
      const [result] = await services.localIncidents.importDefra(
        p.actor,
        [{ name: file.filename, data: file.data }],
        p.partnership,
      );
      reply.flash(
        `Imported DEFRA’s fly-tipping ${result!.kind} from ${result!.file}: ` +
          `${countOf(result!.authorities, 'authority', 'authorities')}, ${yearLabel(result!.years[0]!)} to ${yearLabel(result!.years.at(-1)!)}`,
      );
    } catch (error) {
      if (error instanceof DefraFileError) {
        return refuse(`${file.filename} cannot be imported: nothing was written`, error.message.split('\n'));
      }
      throw error;
    }
    return reply.redirect(`${base(p)}/settings`, 303);
  });
}
