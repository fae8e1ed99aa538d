/**
 * The domain's one error family: every failure a client can cause is an AppError with a status,
 * a machine-readable kind and a sentence a person can act on. Every layer throws these; only
 * http/ decides what a client sees (`{"error": kind, "message": message}`). Nothing here knows
 * Elysia or Response.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, kind = 'bad_request') {
    super(400, kind, message)
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'A valid bearer token is required.', kind = 'unauthorized') {
    super(401, kind, message)
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, kind = 'forbidden') {
    super(403, kind, message)
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, kind = 'not_found') {
    super(404, kind, message)
  }
}

export class ConflictError extends AppError {
  constructor(message: string, kind = 'conflict') {
    super(409, kind, message)
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super(413, 'payload_too_large', message)
  }
}

export class TooManyRequestsError extends AppError {
  constructor(message: string) {
    super(429, 'too_many_requests', message)
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string, kind = 'unavailable') {
    super(503, kind, message)
  }
}

export class InsufficientStorageError extends AppError {
  constructor(message: string, kind = 'insufficient_storage') {
    super(507, kind, message)
  }
}

/** A program the server was allowed to run could not be started (the machine's fault, not the client's). */
export class SpawnError extends AppError {
  constructor(message: string) {
    super(500, 'spawn_failed', message)
  }
}

/** A hunk that no longer applies; the message names the file and the hunk index. */
export class PatchConflictError extends ConflictError {
  constructor(
    readonly file: string,
    readonly hunk: number,
    reason: string,
  ) {
    super(`Hunk ${hunk} of ${file} no longer applies: ${reason}. Nothing was written.`, 'patch_conflict')
  }
}
