/**
 * Leads and partners written as text, one organisation a line, the officers after a colon:
 *   SBC: Will Peters; Mel Cucos
 *   Police: NPT Inspector
 *   JAG members
 * The same form is used in the edit forms and in the CSV plan file.
 */
export interface PartyText {
  organisation: string;
  officers: string[];
}

export function parseParties(text: string): PartyText[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const colon = line.indexOf(':');
      if (colon < 0) return { organisation: line, officers: [] };
      return {
        organisation: line.slice(0, colon).trim(),
        officers: line
          .slice(colon + 1)
          .split(';')
          .map((o) => o.trim())
          .filter(Boolean),
      };
    })
    .filter((p) => p.organisation.length > 0);
}

export function formatParties(parties: readonly PartyText[]): string {
  return parties
    .map((p) => (p.officers.length ? `${p.organisation}: ${p.officers.join('; ')}` : p.organisation))
    .join('\n');
}

/** How the plan document shows a party: "SADA (Tania King)". */
export function describeParty(party: PartyText): string {
  return party.officers.length ? `${party.organisation} (${party.officers.join(', ')})` : party.organisation;
}

/** One item a line, blank lines dropped: resources, expected outcomes. */
export function parseLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}
