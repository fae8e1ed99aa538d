import { BadRequestError, PayloadTooLargeError } from './errors'

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
  try {
    return JSON.parse(text)
  } catch {
    throw new BadRequestError('The request body is not valid JSON.', 'invalid_json')
  }
}
