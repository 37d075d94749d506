import { describe, expect, it } from 'vitest';
import { redactTokens } from '../../src/web/app.js';
import { makeAbbreviator, textHelpers } from '../../src/web/render.js';

const glossary = [
  { term: 'ASB', meaning: 'Anti-social behaviour' },
  { term: 'DA', meaning: 'Domestic Abuse' },
  { term: 'PCC', meaning: 'Police and Crime Commissioner' },
];

describe('plan text on pages', () => {
  it('marks whole-word abbreviations only', () => {
    const abbr = makeAbbreviator(glossary);
    expect(abbr('ASB and DA perps; DATA; PCCs')).toBe(
      '<abbr title="Anti-social behaviour">ASB</abbr> and <abbr title="Domestic Abuse">DA</abbr> perps; DATA; PCCs',
    );
  });

  it('escapes text before adding any markup', () => {
    const abbr = makeAbbreviator(glossary);
    expect(abbr('<img src=x onerror=alert(1)> ASB "quoted"')).toBe(
      '&lt;img src=x onerror=alert(1)&gt; <abbr title="Anti-social behaviour">ASB</abbr> &quot;quoted&quot;',
    );
  });

  it('splits paragraphs on blank lines and lists on lines', () => {
    const fmt = textHelpers(glossary);
    expect(String(fmt.paras('One\nline two\n\nTwo'))).toBe(
      '<p class="govuk-body">One<br>line two</p><p class="govuk-body">Two</p>',
    );
    expect(String(fmt.items(['A', 'B']))).toBe(
      '<ul class="govuk-list govuk-list--bullet"><li>A</li><li>B</li></ul>',
    );
    expect(String(fmt.items('Only'))).toBe('<p class="govuk-body">Only</p>');
  });
});

describe('request logs', () => {
  // app.js is imported with the file, not inside the test: loading the whole app takes seconds on a
  // busy machine, which a test's time limit must not count.
  it('do not carry the secret token of an invitation or reset link', () => {
    expect(redactTokens('/invitations/Zx9-secret_token?x=1')).toBe('/invitations/[token]?x=1');
    expect(redactTokens('/reset-password/secret')).toBe('/reset-password/[token]');
    expect(redactTokens('/p/sosafe/plans/2024-25')).toBe('/p/sosafe/plans/2024-25');
  });
});
