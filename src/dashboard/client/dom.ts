/** Small DOM helpers: elements are built with properties and children, never from HTML strings. */

export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
};

type Props = { className?: string; text?: string; dataset?: Record<string, string>; attrs?: Record<string, string> };

/** An HTML element with a class, text, data-* and attributes, and its children appended. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  if (props.text !== undefined) element.textContent = props.text;
  for (const [name, value] of Object.entries(props.dataset ?? {})) element.dataset[name] = value;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Replaces everything inside `parent` with `children`. */
export function replaceChildren(parent: Element, ...children: (Node | string)[]): void {
  parent.replaceChildren(...children);
}

/** A table with a header row; `rows` are lists of cells (text or nodes), each row carrying `data-*` from `dataset`. */
export function table(headers: string[], rows: { cells: (Node | string)[]; dataset?: Record<string, string> }[], empty: string): HTMLElement {
  if (rows.length === 0) return el("p", { className: "empty", text: empty });
  return el("table", {}, [
    el("thead", {}, [el("tr", {}, headers.map((h) => el("th", { text: h })))]),
    el("tbody", {}, rows.map((row) => el("tr", { dataset: row.dataset ?? {} }, row.cells.map((cell) => el("td", {}, [cell]))))),
  ]);
}

/**
 * A button that acts only on a second click ("Revoke" → "Confirm revoke"), instead of a confirm() dialog; it is a
 * write control (`data-write`).
 */
export function confirmButton(label: string, onConfirm: () => Promise<void>): HTMLButtonElement {
  const button = el("button", { className: "secondary danger", text: label, dataset: { write: "" }, attrs: { type: "button" } });
  let armed = false;
  button.addEventListener("click", () => {
    if (!armed) {
      armed = true;
      button.textContent = `Confirm ${label.toLowerCase()}`;
      return;
    }
    button.disabled = true;
    void onConfirm().finally(() => (button.disabled = false));
  });
  return button;
}

/** A one-time secret (a new key or token) with the warning that it is shown only now. */
export function secretNotice(label: string, secret: string): HTMLElement {
  return el("div", { className: "notice", dataset: { newSecret: "" } }, [
    el("strong", { text: `${label} — copy it now, it is shown only once: ` }),
    el("code", { text: secret }),
  ]);
}

/** A hidden error line, and a function that shows an error (or its message) in it. */
export function errorLine(): { element: HTMLElement; show: (error: unknown) => void } {
  const element = el("p", { className: "error", attrs: { hidden: "" } });
  return {
    element,
    show: (error) => {
      element.hidden = false;
      element.textContent = error instanceof Error ? error.message : String(error);
    },
  };
}

/** A write form (`data-write`) that runs `action` on submit, showing a failure with `showError`. */
export function writeForm(fields: HTMLElement[], submitLabel: string, action: () => Promise<void>, showError: (error: unknown) => void): HTMLFormElement {
  const form = el("form", { className: "inline-form", dataset: { write: "" } }, [...fields, el("button", { text: submitLabel, attrs: { type: "submit" } })]);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    action().catch(showError);
  });
  return form;
}
