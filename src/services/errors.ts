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
