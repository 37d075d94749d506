/**
 * The plan as the Word document's table, one row per action, with the filters a reader asks for:
 * section, priority, lead organisation, partner organisation, status and quarter. Pure: it shapes
 * a loaded plan tree.
 */
import { canUpdateProgress, type ActionLeadership, type Member } from '../domain/permissions.js';
import { isQuarter, type Quarter } from '../domain/quarters.js';
import { isStatus, type Status } from '../domain/status.js';
import {
  latestProgress,
  type ActionNode,
  type AimNode,
  type PlanTree,
  type ProgressNode,
  type SectionNode,
} from './plan-read.js';

export interface DocumentFilters {
  section?: number;
  priority?: number;
  lead?: number;
  partner?: number;
  status?: Status | 'none';
  quarter?: Quarter;
}

export interface DocumentRow {
  section: SectionNode;
  aim: AimNode;
  /** First row of its aim: the aim's title is shown in full here only. */
  firstOfAim: boolean;
  action: ActionNode | undefined;
  progress: ProgressNode[];
  status: Status | null;
}

/** Reads filters from a query string, dropping anything that is not a valid value. */
export function parseDocumentFilters(query: Record<string, unknown>): DocumentFilters {
  const int = (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  const filters: DocumentFilters = {};
  const section = int(query.section);
  if (section !== undefined) filters.section = section;
  const priority = int(query.priority);
  if (priority !== undefined) filters.priority = priority;
  const lead = int(query.lead);
  if (lead !== undefined) filters.lead = lead;
  const partner = int(query.partner);
  if (partner !== undefined) filters.partner = partner;
  if (query.status === 'none' || isStatus(query.status)) filters.status = query.status;
  const quarter = int(query.quarter);
  if (isQuarter(quarter)) filters.quarter = quarter;
  return filters;
}

export function documentRows(tree: PlanTree, filters: DocumentFilters): DocumentRow[] {
  const rows: DocumentRow[] = [];
  for (const section of tree.sections) {
    if (filters.section !== undefined && section.number !== filters.section) continue;
    for (const aim of section.aims) {
      if (filters.priority !== undefined && !aim.priorityIds.includes(filters.priority)) continue;
      const actions: (ActionNode | undefined)[] = aim.actions.length ? aim.actions : [undefined];
      let first = true;
      for (const action of actions) {
        if (filters.lead !== undefined && !action?.leads.some((p) => p.organisationId === filters.lead))
          continue;
        if (
          filters.partner !== undefined &&
          !action?.partners.some((p) => p.organisationId === filters.partner)
        )
          continue;
        const status = action ? latestProgress([action]).status : null;
        if (filters.status !== undefined && (status ?? 'none') !== filters.status) continue;
        let progress = action?.progress ?? [];
        if (filters.quarter !== undefined) {
          progress = progress.filter((p) => p.quarter === filters.quarter);
          if (progress.length === 0) continue;
        }
        rows.push({ section, aim, firstOfAim: first, action, progress, status });
        first = false;
      }
    }
  }
  return rows;
}

/** The organisations named as leads or partners anywhere in the plan, for the filter lists. */
export function organisationsInPlan(tree: PlanTree): {
  leads: { id: number; name: string }[];
  partners: { id: number; name: string }[];
} {
  const leads = new Map<number, string>();
  const partners = new Map<number, string>();
  for (const section of tree.sections) {
    for (const aim of section.aims) {
      for (const action of aim.actions) {
        for (const p of action.leads) leads.set(p.organisationId, p.organisation);
        for (const p of action.partners) partners.set(p.organisationId, p.organisation);
      }
    }
  }
  const sorted = (m: Map<number, string>) =>
    [...m].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
  return { leads: sorted(leads), partners: sorted(partners) };
}

export function leadershipOf(tree: PlanTree, action: ActionNode): ActionLeadership {
  return {
    partnershipId: tree.partnership.id,
    organisationIds: action.leads.map((p) => p.organisationId),
    personIds: action.leads.flatMap((p) => p.personIds),
  };
}

/** Which of an aim's actions this member may record progress on (to show the links; the service checks again). */
export function updatableActionIds(tree: PlanTree, member: Member | undefined, aim: AimNode): number[] {
  return aim.actions.filter((a) => canUpdateProgress(member, leadershipOf(tree, a))).map((a) => a.id);
}

/** What an organisation leads and partners on in this plan. */
export function organisationRoles(tree: PlanTree, organisationId: number) {
  const leads: { aim: AimNode; action: ActionNode; officers: string[] }[] = [];
  const partners: { aim: AimNode; action: ActionNode; officers: string[] }[] = [];
  for (const section of tree.sections) {
    for (const aim of section.aims) {
      for (const action of aim.actions) {
        for (const p of action.leads)
          if (p.organisationId === organisationId) leads.push({ aim, action, officers: p.officers });
        for (const p of action.partners) {
          if (p.organisationId === organisationId) partners.push({ aim, action, officers: p.officers });
        }
      }
    }
  }
  return { leads, partners };
}
