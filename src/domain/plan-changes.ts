/** The kinds of change to a plan that the year's changes list and the board's report name. Pure. */
export type PlanChangeKind =
  | 'aim_added'
  | 'aim_changed'
  | 'aim_archived'
  | 'action_added'
  | 'action_archived'
  | 'priority_added'
  | 'priority_changed'
  | 'priority_archived'
  | 'section_added'
  | 'section_changed'
  | 'section_archived';

export const PLAN_CHANGE_LABELS: Record<PlanChangeKind, string> = {
  aim_added: 'Aim added',
  aim_changed: 'Aim changed',
  aim_archived: 'Aim archived',
  action_added: 'Action added',
  action_archived: 'Action archived',
  priority_added: 'Priority added',
  priority_changed: 'Priority changed',
  priority_archived: 'Priority archived',
  section_added: 'Section added',
  section_changed: 'Section changed',
  section_archived: 'Section archived',
};
