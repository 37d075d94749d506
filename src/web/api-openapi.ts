/**
 * The OpenAPI 3.1 document of the read-only API, served at /api/v1/openapi.json. Written by hand
 * as a typed object (no generator): the API is six small routes, and test/web/api.test.ts checks
 * that the document names every /api/v1 route the app registers, and that the real answers for the
 * demo plan fit the schemas below.
 */
import { SUBMISSION_STATES } from '../domain/cycles.js';
import { FUNDING_STATES } from '../domain/funding.js';
import { STATUSES } from '../domain/status.js';

/** The JSON Schema (2020-12) keywords this document uses. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null' | JsonSchemaType[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: readonly (string | number | null)[];
  format?: 'date' | 'date-time' | 'uri';
  minimum?: number;
  maximum?: number;
  $ref?: string;
}
type JsonSchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

interface Parameter {
  name: string;
  in: 'path';
  required: true;
  description: string;
  schema: JsonSchema;
}

interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  responses: Record<
    string,
    { description: string; content?: { 'application/json': { schema: JsonSchema } } }
  >;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  security: Record<string, string[]>[];
  paths: Record<string, { get: Operation }>;
  components: {
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
    schemas: Record<string, JsonSchema>;
  };
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const str: JsonSchema = { type: 'string' };
const nullableStr: JsonSchema = { type: ['string', 'null'] };
const dateTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
const date: JsonSchema = { type: ['string', 'null'], format: 'date' };
const strings: JsonSchema = { type: 'array', items: str };
const object = (properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

const slug: Parameter = {
  name: 'slug',
  in: 'path',
  required: true,
  description: 'The partnership’s short name, e.g. sosafe',
  schema: str,
};
const year: Parameter = {
  name: 'year',
  in: 'path',
  required: true,
  description: 'The plan year, e.g. 2024-25',
  schema: str,
};
const quarter: Parameter = {
  name: 'q',
  in: 'path',
  required: true,
  description: 'The quarter: 1 (April–June), 2 (July–September), 3 (October–December), 4 (January–March)',
  schema: { type: 'integer', minimum: 1, maximum: 4 },
};

const refusals = {
  '401': {
    description: 'No token, or a token that is malformed, unknown, revoked or expired',
    content: json(ref('Error')),
  },
  '403': { description: 'The token belongs to another partnership', content: json(ref('Error')) },
  '404': { description: 'No such plan or quarter', content: json(ref('Error')) },
  '429': { description: 'Too many requests: wait a minute', content: json(ref('Error')) },
};

export const API_PREFIX = '/api/v1';

export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Partnership Plan API',
    version: '1',
    description: [
      'Read-only JSON for the partnership’s own reporting (Power BI, Excel, a county dashboard): its plans,',
      'the latest statuses, progress by quarter, and the quarterly cycles with their frozen board snapshots.',
      'Every request carries `Authorization: Bearer <token>`; the partnership’s coordinator issues and revokes',
      'tokens in the app (API tokens). A token reads its own partnership only. Drafts of progress updates',
      'never appear. Named lead officers are included: the API is for the partnership’s own use.',
      'Funding lines (source, amount in pence and pounds, state applied · awarded · received · spent, with dates)',
      'are on each aim of a plan, and listed flat with their totals at …/plans/{year}/funding.',
    ].join(' '),
  },
  security: [{ bearer: [] }],
  paths: {
    [`${API_PREFIX}/openapi.json`]: {
      get: {
        operationId: 'getOpenApi',
        summary: 'This document',
        security: [],
        responses: { '200': { description: 'The OpenAPI document', content: json({ type: 'object' }) } },
      },
    },
    [`${API_PREFIX}/partnerships/{slug}`]: {
      get: {
        operationId: 'getPartnership',
        summary: 'The partnership and its plan years',
        parameters: [slug],
        responses: {
          '200': { description: 'The partnership', content: json(ref('Partnership')) },
          ...refusals,
        },
      },
    },
    [`${API_PREFIX}/partnerships/{slug}/plans/{year}`]: {
      get: {
        operationId: 'getPlan',
        summary: 'A plan: sections, aims with their latest status, actions with leads, partners and progress',
        parameters: [slug, year],
        responses: { '200': { description: 'The live plan', content: json(ref('Plan')) }, ...refusals },
      },
    },
    [`${API_PREFIX}/partnerships/{slug}/plans/{year}/funding`]: {
      get: {
        operationId: 'listFunding',
        summary:
          'The plan’s funding lines, one row each (for Power BI and Excel), with totals by state and source',
        parameters: [slug, year],
        responses: {
          '200': { description: 'The funding lines', content: json(ref('Funding')) },
          ...refusals,
        },
      },
    },
    [`${API_PREFIX}/partnerships/{slug}/plans/{year}/quarters`]: {
      get: {
        operationId: 'listQuarters',
        summary: 'The plan’s four quarters: due dates, phase, board date and updates by state',
        parameters: [slug, year],
        responses: { '200': { description: 'The quarters', content: json(ref('Quarters')) }, ...refusals },
      },
    },
    [`${API_PREFIX}/partnerships/{slug}/plans/{year}/quarters/{q}/snapshot`]: {
      get: {
        operationId: 'getSnapshot',
        summary: 'A closed quarter as reported to the board, frozen at closing',
        description: '404 until the quarter is closed.',
        parameters: [slug, year, quarter],
        responses: { '200': { description: 'The snapshot', content: json(ref('Snapshot')) }, ...refusals },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API token issued by the partnership’s coordinator: pp_ followed by 43 characters',
      },
    },
    schemas: {
      Error: object({ error: str }),
      Status: { type: ['string', 'null'], enum: [...STATUSES, null], description: 'null: no status given' },
      Partnership: object({
        slug: str,
        name: str,
        area: nullableStr,
        plans: {
          type: 'array',
          items: object({ year: str, url: str }),
        },
      }),
      Party: object(
        { organisation: str, fullName: nullableStr, officers: strings },
        'An organisation taking part, with the officers the plan names for it',
      ),
      Progress: object({
        quarter: { type: ['integer', 'null'], minimum: 1, maximum: 4 },
        status: ref('Status'),
        text: str,
        state: { type: 'string', enum: ['submitted', 'accepted', 'returned'] },
        late: { type: 'boolean' },
        recordedAt: dateTime,
        submittedAt: dateTime,
        amendedAt: { ...dateTime, description: 'Changed after its quarter was closed' },
        evidenceUrl: nullableStr,
      }),
      Action: object({
        id: { type: 'integer' },
        position: { type: 'integer' },
        description: str,
        resources: strings,
        expectedOutcomes: strings,
        leads: { type: 'array', items: ref('Party') },
        partners: { type: 'array', items: ref('Party') },
        progress: { type: 'array', items: ref('Progress') },
      }),
      Aim: object({
        number: str,
        title: str,
        addedOn: { type: ['string', 'null'], format: 'date', description: 'Added during the year' },
        status: { ...ref('Status'), description: 'The latest status given on any of its actions' },
        priorities: strings,
        actions: { type: 'array', items: ref('Action') },
        funding: {
          type: 'array',
          items: ref('FundingLine'),
          description: 'Money for the aim and its actions (archived lines are left out)',
        },
      }),
      FundingLine: object(
        {
          id: { type: 'integer' },
          section: { type: 'integer' },
          aim: { ...str, description: 'The aim’s number, e.g. 2.2' },
          action: {
            type: ['integer', 'null'],
            description:
              'The action’s place in its aim (1, 2, …); null for the aim as a whole or an archived action',
          },
          forWholeAim: { type: 'boolean' },
          source: str,
          amountPence: {
            type: 'integer',
            minimum: 0,
            description: 'The amount in whole pence: £10,000 is 1000000',
          },
          amountPounds: { type: 'number', minimum: 0, description: 'The same amount in pounds' },
          state: { type: 'string', enum: FUNDING_STATES, description: 'How far the money has got' },
          appliedOn: date,
          awardedOn: date,
          receivedOn: date,
          spentOn: date,
          spentToDatePence: { type: 'integer', minimum: 0 },
          spentToDatePounds: { type: 'number', minimum: 0 },
          notes: nullableStr,
          updatedAt: { type: 'string', format: 'date-time' },
        },
        'A funding line: money for an aim or one of its actions',
      ),
      FundingTotal: object({
        label: str,
        lines: { type: 'integer' },
        totalPence: { type: 'integer' },
        spentToDatePence: { type: 'integer' },
      }),
      Funding: object({
        year: str,
        lines: { type: 'array', items: ref('FundingLine') },
        totals: object({
          all: ref('FundingTotal'),
          byState: {
            type: 'array',
            items: object({
              state: { type: 'string', enum: FUNDING_STATES },
              label: str,
              lines: { type: 'integer' },
              totalPence: { type: 'integer' },
              spentToDatePence: { type: 'integer' },
            }),
          },
          bySource: { type: 'array', items: ref('FundingTotal') },
        }),
      }),
      Section: object({
        number: { type: 'integer' },
        title: str,
        aims: { type: 'array', items: ref('Aim') },
      }),
      Priority: object({
        title: str,
        description: nullableStr,
        addedOn: { type: ['string', 'null'], format: 'date' },
        aims: strings,
      }),
      Plan: object({
        partnership: object({ slug: str, name: str }),
        year: str,
        headlineAims: strings,
        priorities: { type: 'array', items: ref('Priority') },
        sections: { type: 'array', items: ref('Section') },
      }),
      Quarter: object({
        quarter: { type: 'integer', minimum: 1, maximum: 4 },
        phase: { type: 'string', enum: ['not_opened', 'open', 'closed'] },
        dueOn: { type: ['string', 'null'], format: 'date' },
        openedAt: dateTime,
        closedAt: dateTime,
        reportedOn: { type: ['string', 'null'], format: 'date' },
        counts: object(
          Object.fromEntries(SUBMISSION_STATES.map((s) => [s, { type: 'integer' } as JsonSchema])),
          'The plan’s live actions by the state of their update for the quarter',
        ),
        total: { type: 'integer' },
      }),
      Quarters: object({ year: str, quarters: { type: 'array', items: ref('Quarter') } }),
      Snapshot: object(
        {
          quarter: { type: 'integer', minimum: 1, maximum: 4 },
          planYear: str,
          reportedOn: { type: 'string', format: 'date' },
          takenAt: { type: 'string', format: 'date-time' },
          takenBy: nullableStr,
          tree: { type: 'object', description: 'The plan exactly as it stood at closing' },
          board: { type: 'array', items: { type: 'object' }, description: 'The submission board at closing' },
          changes: {
            type: 'array',
            items: { type: 'object' },
            description: 'The changes to the plan reported with this quarter',
          },
        },
        'The frozen snapshot, as stored when the quarter was closed',
      ),
    },
  },
};
