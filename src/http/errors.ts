import type { AppError } from '../errors'

/** The one place an AppError becomes what a client sees; a 401 carries `WWW-Authenticate: Bearer`. */
export function appErrorResponse(error: AppError): Response {
  const headers: Record<string, string> = {}
  if (error.status === 401) headers['WWW-Authenticate'] = 'Bearer'
  return Response.json({ error: error.kind, message: error.message }, { status: error.status, headers })
}
