import type { Identity } from "./api";

/**
 * A dashboard view: one tab, one file in ./views. `main.ts` lists them; a view draws itself into the element it
 * is given, from the admin API, for the workspace and time range chosen in the header. Write controls carry
 * `data-write` and are only drawn when `ctx.canWrite` says the signed-in token may use them.
 */
export type ViewContext = {
  identity: Identity;
  workspace: string;
  /** The header's time range, in days ending today (UTC). */
  rangeDays: number;
  /** The token may change this workspace (owner, or a workspace admin of it). */
  canWrite: boolean;
  /** Draws the view again (after a change it made). */
  reload: () => void;
};

export type View = {
  /** `?view=<id>` selects it; also its tab's `data-view`. */
  id: string;
  title: string;
  /** Which header controls apply to it (the others are hidden while it is shown). */
  uses: { workspace: boolean; range: boolean };
  /** Whether the signed-in token gets this tab at all. */
  available: (identity: Identity) => boolean;
  render(root: HTMLElement, ctx: ViewContext): Promise<void>;
};
