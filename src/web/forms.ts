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

/** The largest file a form takes (a spreadsheet or a Word plan): larger is refused with 413. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** A file sent with a multipart form, read whole (app.ts registers @fastify/multipart so). */
export interface UploadedFile {
  filename: string;
  mimetype: string;
  data: Buffer;
}

/** The file a multipart form sent in this field, if any; an empty file input sends none. */
export function uploadedFile(body: unknown, name: string): UploadedFile | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  if (!value || typeof value !== 'object' || !('data' in value) || !Buffer.isBuffer(value.data))
    return undefined;
  const file = value as UploadedFile;
  return file.filename === '' && file.data.length === 0 ? undefined : file;
}
