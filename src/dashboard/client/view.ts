/**
 * A dashboard view: one tab, one file in ./views. `main.ts` lists them; a view draws itself into the element it
 * is given, from the admin API, for the workspace and time range chosen in the header.
 */
export type ViewContext = {
  workspace: string;
  /** The header's time range, in days ending today (UTC). */
  rangeDays: number;
};

export type View = {
  /** `?view=<id>` selects it; also its tab's `data-view`. */
  id: string;
  title: string;
  /** Whether the header's time range applies (otherwise the range selector is hidden on this view). */
  usesRange: boolean;
  render(root: HTMLElement, ctx: ViewContext): Promise<void>;
};
