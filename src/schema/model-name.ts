import * as z from "zod";

/**
 * A model name or route name as a client or a config writes it. It travels into upstream URLs and bodies and back
 * in response headers (`x-switchyard-model`), so it is printable ASCII only: a CR, LF or NUL would split or break a
 * header, and it is refused before anything is sent upstream.
 */
export const ModelNameSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x20-\x7e]+$/, "model names are printable ASCII characters (no control characters such as CR, LF or NUL)");
