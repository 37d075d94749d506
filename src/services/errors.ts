import type { z } from 'zod';

/** Errors a service raises for the web and CLI layers to turn into the right answer. */
export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} was not found`);
  }
}

export class ForbiddenError extends Error {
  constructor(message = 'You do not have permission to do that') {
    super(message);
  }
}

/** A stale write: the row changed since the form was loaded. Carries the current row. */
export class ConflictError<T = unknown> extends Error {
  constructor(
    readonly current: T,
    message = 'Someone else changed this since you opened it',
  ) {
    super(message);
  }
}

/** Field-level problems with a form or file; nothing was written. */
export class ValidationError extends Error {
  constructor(readonly problems: { field: string; message: string }[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  }
}

/**
 * Checks input against a zod schema; on failure throws a ValidationError naming each field (the
 * first path segment, or `wholeForm` for a problem with the input as a whole).
 */
export function validate<T>(schema: z.ZodType<T>, input: unknown, wholeForm = 'form'): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? wholeForm), message: i.message })),
    );
  }
  return parsed.data;
}

/** A PostgreSQL unique violation (23505), however deeply the driver wrapped it. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
