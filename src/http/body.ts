import { BadRequestError, PayloadTooLargeError } from '../errors'

/**
 * Reads a request body as JSON whatever Content-Type says (`curl -d` sends form encoding), with a
 * byte bound checked while reading, so a 20 MB body is refused without being held in memory.
 */
export async function readJsonBody(request: Request, limitBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '')
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new PayloadTooLargeError(`The request body is over ${limitBytes} bytes.`)
  }
  if (!request.body) return undefined
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limitBytes) {
      await reader.cancel().catch(() => {})
      throw new PayloadTooLargeError(`The request body is over ${limitBytes} bytes.`)
    }
    chunks.push(value)
  }
  if (size === 0) return undefined
  const text = new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks))
  if (text.trim() === '') return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new BadRequestError('The request body is not valid JSON.', 'invalid_json')
  }
  if (nestingDepthOver(value, MAX_NESTING)) {
    throw new BadRequestError(`The request body nests deeper than ${MAX_NESTING} levels.`, 'too_deep')
  }
  return value
}

/** No API body needs more; deeper ones only cost time in validation and its error messages. */
export const MAX_NESTING = 64

/** Iterative, so a body nested 100 000 levels deep cannot overflow the stack. */
function nestingDepthOver(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 0]]
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!
    if (value === null || typeof value !== 'object') continue
    if (depth >= max) return true
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return false
}
