/**
 * The page's one way to make elements. Text always goes in as text nodes and attributes through
 * setAttribute, so agent output, file names and diff lines can never become markup.
 */
export type Child = Node | string | number | null | undefined | false
type Handler = (event: Event) => void
export type Props = Record<string, string | number | boolean | Handler | null | undefined>

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open', 'indeterminate'])

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') element.addEventListener(key.replace(/^on/, '').toLowerCase(), value)
    else if (PROPERTIES.has(key)) (element as unknown as Record<string, unknown>)[key] = value
    else if (key === 'class') element.className = String(value)
    else element.setAttribute(key, value === true ? '' : String(value))
  }
  append(element, children)
  return element
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren()
  append(parent, children)
}

/** Keeps a log scrolled to its end when it was at the end before an update. */
export function stickToBottom(element: Element, update: () => void): void {
  const atEnd = element.scrollHeight - element.scrollTop - element.clientHeight < 40
  update()
  if (atEnd) element.scrollTop = element.scrollHeight
}

export function shortTime(iso: string | undefined): string {
  if (!iso) return ''
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}

/** Terminal text as plain text: ANSI colour and cursor sequences removed. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g, '').replace(/\r(?!\n)/g, '')
}
