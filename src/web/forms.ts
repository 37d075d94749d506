/** The GOV.UK error summary pattern: a list for the summary, and a message per field. */
export interface FormErrors {
  errorList: { text: string; href: string }[];
  errors: Record<string, { text: string }>;
}

export function formErrors(problems: readonly { field: string; message: string }[]): FormErrors {
  const errors: Record<string, { text: string }> = {};
  const errorList: FormErrors['errorList'] = [];
  for (const problem of problems) {
    if (errors[problem.field]) continue;
    errors[problem.field] = { text: problem.message };
    errorList.push({ text: problem.message, href: `#${problem.field}` });
  }
  return { errorList, errors };
}

/** Form bodies arrive as string maps; anything else is treated as empty. */
export function formBody(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [key, value] of Object.entries(body)) {
      if (typeof value === 'string') out[key] = value;
      else if (Array.isArray(value) && typeof value[0] === 'string') out[key] = value[0];
    }
  }
  return out;
}

/**
 * Only same-site paths are followed after sign-in. Printable ASCII only (no spaces, backslashes,
 * control or non-ASCII characters): the value goes into the Location header, where any other
 * character makes Node refuse to send the answer at all.
 */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^\/(?!\/)[\x21-\x5b\x5d-\x7e]*$/.test(value) ? value : undefined;
}
