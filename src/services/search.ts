/**
 * Full-text search across a plan (PostgreSQL's English configuration): aims, actions with their
 * resources, outcomes, leads and partners, progress and delivery principles. Results are grouped
 * by the aim they belong to, best first, with highlighted snippets.
 */
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';
import type { Actor } from './actor.js';
import { assertMayRead } from './plan-view.js';

export interface SearchHit {
  aimNumber: string;
  aimTitle: string;
  rank: number;
  snippets: { where: string; html: string }[];
}

/** Marks the matched words with <mark>; ts_headline gets text already HTML-escaped, so its output is safe. */
const HEADLINE_OPTIONS =
  'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "';

export async function searchPlan(
  db: Db,
  actor: Actor,
  plan: { id: number; partnershipId: number },
  query: string,
): Promise<SearchHit[]> {
  assertMayRead(actor, plan.partnershipId);
  const planId = plan.id;
  const q = query.trim().slice(0, 200);
  if (!q) return [];
  const rows = await queryRows<{
    aim_number: string;
    aim_title: string;
    kind: string;
    rank: number;
    snippet: string;
  }>(
    db,
    sql`
    with q as (select websearch_to_tsquery('english', ${q}) as query),
    docs as (
      select a.id as aim_id, 'Aim' as kind, a.number || ' ' || a.title as body,
             to_tsvector('english'::regconfig, a.number || ' ' || a.title) as doc
        from aims a where a.plan_id = ${planId} and a.archived_at is null
      union all
      select x.aim_id, 'Action', x.description, to_tsvector('english'::regconfig, x.description)
        from actions x join aims a on a.id = x.aim_id
       where a.plan_id = ${planId} and a.archived_at is null and x.archived_at is null
      union all
      select x.aim_id, 'Resources and expected outcomes',
             array_to_string(x.resources || x.expected_outcomes, ' · '),
             to_tsvector('english'::regconfig, array_to_string(x.resources || x.expected_outcomes, ' '))
        from actions x join aims a on a.id = x.aim_id
       where a.plan_id = ${planId} and a.archived_at is null and x.archived_at is null
      union all
      select x.aim_id, case when p.role = 'lead' then 'Lead' else 'Partner' end,
             o.name || coalesce(' ' || o.full_name, '') || ' ' || array_to_string(p.officers, ', '),
             to_tsvector('english'::regconfig, o.name || coalesce(' ' || o.full_name, '') || ' ' || array_to_string(p.officers, ' '))
        from action_parties p join actions x on x.id = p.action_id join aims a on a.id = x.aim_id
        join organisations o on o.id = p.organisation_id
       where a.plan_id = ${planId} and a.archived_at is null and x.archived_at is null
      union all
      select x.aim_id, coalesce('Q' || u.quarter || ' progress', 'Progress'), u.text,
             to_tsvector('english'::regconfig, u.text)
        from progress_updates u join actions x on x.id = u.action_id join aims a on a.id = x.aim_id
       where a.plan_id = ${planId} and a.archived_at is null and x.archived_at is null
      union all
      select d.aim_id, 'Principle ' || d.number, d.principle || ' ' || d.response,
             to_tsvector('english'::regconfig, d.principle || ' ' || d.response)
        from delivery_principles d join aims a on a.id = d.aim_id
       where a.plan_id = ${planId} and a.archived_at is null
    )
    select a.number as aim_number, a.title as aim_title, docs.kind,
           ts_rank(docs.doc, q.query) as rank,
           ts_headline('english',
             replace(replace(replace(docs.body, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
             q.query, ${HEADLINE_OPTIONS}) as snippet
      from docs join q on docs.doc @@ q.query join aims a on a.id = docs.aim_id
     order by rank desc, a.id
     limit 200`,
  );
  const hits = new Map<string, SearchHit>();
  for (const row of rows) {
    let hit = hits.get(row.aim_number);
    if (!hit) {
      hit = { aimNumber: row.aim_number, aimTitle: row.aim_title, rank: 0, snippets: [] };
      hits.set(row.aim_number, hit);
    }
    hit.rank += Number(row.rank);
    if (hit.snippets.length < 3) hit.snippets.push({ where: row.kind, html: row.snippet });
  }
  return [...hits.values()].sort((a, b) => b.rank - a.rank);
}
