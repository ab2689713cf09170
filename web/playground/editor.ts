// The scenario editor: CodeMirror 6 over the scenario text format (TOML),
// checked by the engine's own parser (`check-scenario`) as you type. Each
// error is a lint marker at its line and column and a line in the list
// below the editor; a valid text becomes the page's scenario.
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { StreamLanguage, bracketMatching, syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language';
import { toml } from '@codemirror/legacy-modes/mode/toml';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState, type Text } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, highlightActiveLine } from '@codemirror/view';
import { fill, h } from '../dom';
import type { EngineClient } from '../engine';
import type { CheckBody, ScenarioErrorBody } from '../protocol';

export interface EditorHandle {
  /** Replace the text (picking a built-in, opening a link). */
  setText(text: string): void;
  view: EditorView;
}

/** Document position of a 1-based line and column (columns count characters). */
export function position(doc: Text, line: number, column: number): number {
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  let pos = l.from;
  let col = 1;
  for (const ch of l.text) {
    if (col >= column) break;
    pos += ch.length;
    col++;
  }
  return Math.min(pos, l.to);
}

export function mountEditor(
  root: HTMLElement,
  engine: EngineClient,
  onValid: (text: string, check: CheckBody) => void,
): EditorHandle {
  const status = h('p', { class: 'small', 'data-testid': 'editor-status', 'aria-live': 'polite' });
  const errors = h('ol', { class: 'errors', 'data-testid': 'editor-errors' });
  const host = h('div', { class: 'cm-host', 'data-testid': 'editor' });
  // CodeMirror injects its styles; in a document it would use a <style>
  // element, which the page's Content-Security-Policy (style-src 'self')
  // blocks. Inside a shadow root it uses constructed, adopted style sheets,
  // which the policy allows.
  const shadow = host.attachShadow({ mode: 'open' });
  const local = new CSSStyleSheet();
  local.replaceSync(EDITOR_CSS);
  shadow.adoptedStyleSheets = [local];
  const mountPoint = document.createElement('div');
  shadow.appendChild(mountPoint);
  fill(
    root,
    h(
      'p',
      { class: 'muted small' },
      'The scenario text format (docs/scenario-format.md). Start from any built-in; every edit is checked by the engine’s parser. A valid text becomes the scenario the page runs.',
    ),
    host,
    status,
    errors,
  );

  let seq = 0;
  let timer: number | undefined;

  // `edited`: the text is the user's edit (it becomes the page's scenario
  // when valid); text the page set itself (a built-in, a link) is only
  // checked. Each check carries its own flag: a page-wide "applying" flag
  // was cleared by an earlier, overlapping check and turned a link's text
  // into a user edit, which dropped the link's schedule.
  const check = async (view: EditorView, edited: boolean): Promise<void> => {
    const text = view.state.doc.toString();
    const my = ++seq;
    const a = await engine.request({ cmd: 'check-scenario', text });
    if (my !== seq || !a.ok) return;
    const doc = view.state.doc;
    const diags: Diagnostic[] = a.errors.map((e) => {
      const from = e.location ? position(doc, e.location.line, e.location.column) : 0;
      const to = Math.min(doc.lineAt(from).to, from + Math.max(1, wordLength(doc, from)));
      return { from, to: Math.max(to, from), severity: 'error', source: e.kind, message: e.rendered };
    });
    view.dispatch(setDiagnostics(view.state, diags));
    renderErrors(a.errors, view);
    if (a.errors.length === 0) {
      status.textContent = `valid: ${a.scenario?.meta.name ?? ''}${a.builtin ? ` (built-in ${a.builtin}, unchanged)` : ''}`;
      status.dataset.state = 'valid';
      if (edited) onValid(text, a);
    } else {
      status.textContent = `${a.errors.length} error${a.errors.length === 1 ? '' : 's'}; the page keeps the last valid scenario`;
      status.dataset.state = 'errors';
    }
  };

  const renderErrors = (list: ScenarioErrorBody[], view: EditorView): void => {
    fill(errors);
    for (const e of list) {
      const item = h('li', { 'data-testid': 'editor-error', class: `err-${e.kind}` });
      const where = e.location ? `line ${e.location.line}, column ${e.location.column}` : 'no location';
      const btn = h('button', { type: 'button', class: 'link' }, where);
      btn.addEventListener('click', () => {
        if (!e.location) return;
        const pos = position(view.state.doc, e.location.line, e.location.column);
        view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
        view.focus();
      });
      item.append(btn, h('span', { class: 'kind' }, ` ${e.kind} `), h('code', {}, e.path ? `${e.path}: ` : ''), e.message);
      errors.appendChild(item);
    }
  };

  const view = new EditorView({
    parent: mountPoint,
    root: shadow,
    state: EditorState.create({
      doc: '',
      extensions: [
        lineNumbers(),
        history(),
        bracketMatching(),
        highlightActiveLine(),
        StreamLanguage.define(toml),
        syntaxHighlighting(defaultHighlightStyle),
        lintGutter(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.updateListener.of((u) => {
          if (!u.docChanged) return;
          window.clearTimeout(timer);
          timer = window.setTimeout(() => void check(u.view, true), 250);
        }),
      ],
    }),
  });

  return {
    view,
    setText(text: string) {
      if (view.state.doc.toString() === text) return;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      window.clearTimeout(timer);
      void check(view, false);
    },
  };
}

const EDITOR_CSS = `
.cm-editor { height: 62vh; font-size: 12.5px; background: #fff; }
.cm-scroller { font-family: ui-monospace, 'DejaVu Sans Mono', 'SFMono-Regular', Menlo, monospace; }
.cm-gutters { background: #f6f7f9; color: #8a919c; border-right: 1px solid #e1e4ea; }
.cm-activeLine { background: #f3f6fc; }
`;

function wordLength(doc: Text, pos: number): number {
  const line = doc.lineAt(pos);
  const rest = line.text.slice(pos - line.from);
  const m = /^[^\s,=}\]]+/.exec(rest);
  return m ? m[0].length : 1;
}
