// Tiny DOM builder. Text is always set with textContent and attributes with
// setAttribute: nothing is ever parsed as HTML (scenario text and share
// links are data, never markup).

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : v);
  }
  append(e, ...children);
  return e;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replace all children of `e`. */
export function fill(e: Node, ...children: Child[]): void {
  while (e.firstChild) e.removeChild(e.firstChild);
  append(e, ...children);
}

export function byTestId<T extends HTMLElement = HTMLElement>(root: ParentNode, id: string): T {
  const e = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!e) throw new Error(`missing element ${id}`);
  return e;
}
