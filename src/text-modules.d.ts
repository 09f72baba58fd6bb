/** Files imported as text: wrangler's default module rule for `*.txt` (the data plane's bundler does the same). */
declare module "*.txt" {
  const text: string;
  export default text;
}
