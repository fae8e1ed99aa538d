/**
 * xterm.js writes its theme and cell sizes into <style> elements it creates. The CSP allows no
 * inline style except with this response's nonce (served in a meta tag), so every <style> this
 * document creates gets the nonce. Scripts get nothing: script-src is 'self' only.
 */
export function nonceStyleElements(): void {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')
  const nonce = meta?.content ?? ''
  meta?.remove()
  if (!nonce || nonce.startsWith('__')) return
  const create = document.createElement.bind(document) as (tag: string, options?: ElementCreationOptions) => HTMLElement
  document.createElement = ((tag: string, options?: ElementCreationOptions) => {
    const element = create(tag, options)
    if (tag.toLowerCase() === 'style') element.nonce = nonce
    return element
  }) as typeof document.createElement
}
