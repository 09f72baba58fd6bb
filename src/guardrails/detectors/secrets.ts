import { charTable, heldFromRun, wordBefore, type Matcher, type Span } from "./span";

/**
 * Credentials by their published shapes: provider API keys by their prefixes, AWS access key ids, JSON Web
 * Tokens, and PEM private-key blocks. A cheap test for any of the prefixes runs first; the full expression only
 * on text that has one.
 */

/** Token shapes, each bounded so a stream knows how much it may have to hold back. */
const TOKEN_SHAPES = [
  // OpenAI (sk-…, sk-proj-…, sk-svcacct-…), Anthropic (sk-ant-api03-…), DeepSeek and others using sk-.
  "sk-[A-Za-z0-9_-]{20,200}",
  // Stripe secret and restricted keys.
  "[sr]k_(?:live|test)_[A-Za-z0-9]{16,200}",
  // GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens; fine-grained PATs.
  "gh[pousr]_[A-Za-z0-9]{36,251}",
  "github_pat_[A-Za-z0-9_]{22,255}",
  // Slack bot, user, app and refresh tokens.
  "xox[abprs]-[A-Za-z0-9-]{10,250}",
  // Google API keys (Gemini, Maps, …).
  "AIza[0-9A-Za-z_-]{35}",
  // Hugging Face, GitLab, Groq, xAI, Replicate, Perplexity.
  "hf_[A-Za-z0-9]{30,40}",
  "glpat-[A-Za-z0-9_-]{20,50}",
  "gsk_[A-Za-z0-9]{40,60}",
  "xai-[A-Za-z0-9]{40,100}",
  "r8_[A-Za-z0-9]{37}",
  "pplx-[A-Za-z0-9]{40,60}",
  // AWS access key ids (long-term AKIA, temporary ASIA, and the other documented prefixes).
  "(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
  // JSON Web Tokens: a base64url JSON header and payload (both start `{"` → `eyJ`) and a signature.
  "eyJ[A-Za-z0-9_-]{5,2000}\\.eyJ[A-Za-z0-9_-]{5,4000}\\.[A-Za-z0-9_-]{0,1000}",
];
const TOKENS = new RegExp(`(?<![A-Za-z0-9_-])(?:${TOKEN_SHAPES.join("|")})(?![A-Za-z0-9_-])`, "g");
/** Any prefix above: text without one skips the full expression. */
const PREFIXES = /sk-|[sr]k_|gh[pousr]_|github_pat_|xox[abprs]-|AIza|hf_|glpat-|gsk_|xai-|r8_|pplx-|A[SKBC][IC]A|eyJ/;
const TOKEN_PART = charTable(/[A-Za-z0-9_.-]/);
/** The literal starts of the shapes above, for streams: a trailing run is held only if it may become one. */
const TOKEN_STARTS = ["sk-", "sk_live_", "sk_test_", "rk_live_", "rk_test_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "AIza", "hf_", "glpat-", "gsk_", "xai-", "r8_", "pplx-", "AKIA", "ASIA", "ABIA", "ACCA", "eyJ"];
const LONGEST_START = Math.max(...TOKEN_STARTS.map((s) => s.length));

function couldStartToken(text: string, index: number): boolean {
  const rest = text.slice(index, index + LONGEST_START);
  return TOKEN_STARTS.some((start) => rest.startsWith(start) || (rest.length < start.length && text.length - index === rest.length && start.startsWith(rest)));
}
/** The longest token shape (a JWT). */
const TOKEN_MAX = 3 + 2000 + 1 + 3 + 4000 + 1 + 1000;

const PEM_BEGIN = "-----BEGIN ";
const PEM_HEADER = /^-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----/;
/** A 8192-bit RSA key in PEM is about 6.4 KB; anything longer is cut at this bound (and still matched). */
const PEM_MAX = 8_192;

function findTokens(text: string): Span[] {
  if (!PREFIXES.test(text)) return [];
  const spans: Span[] = [];
  TOKENS.lastIndex = 0;
  for (let match = TOKENS.exec(text); match !== null; match = TOKENS.exec(text)) spans.push({ start: match.index, end: match.index + match[0].length });
  return spans;
}

/** Private-key blocks from BEGIN to their END line (or to the end of the text when the END is missing). */
function findPrivateKeys(text: string): Span[] {
  const spans: Span[] = [];
  for (let begin = text.indexOf(PEM_BEGIN); begin !== -1; begin = text.indexOf(PEM_BEGIN, begin + 1)) {
    const header = PEM_HEADER.exec(text.slice(begin, begin + 80));
    if (!header) continue;
    const footer = `-----END ${header[1]}PRIVATE KEY${header[2] ?? ""}-----`;
    const endAt = text.indexOf(footer, begin + header[0].length);
    const end = Math.min(endAt === -1 ? text.length : endAt + footer.length, begin + PEM_MAX);
    spans.push({ start: begin, end });
    begin = end - 1;
  }
  return spans;
}

export function findSecrets(text: string): Span[] {
  const keys = text.includes(PEM_BEGIN) ? findPrivateKeys(text) : [];
  const tokens = findTokens(text);
  if (keys.length === 0) return tokens;
  const outside = tokens.filter((t) => !keys.some((k) => t.start < k.end && k.start < t.end));
  return [...keys, ...outside].sort((a, b) => a.start - b.start);
}

/**
 * An open private-key block at the end of the text is held from its BEGIN line (up to the block's bound), and
 * so is a BEGIN line still arriving ("-----BEG").
 */
function heldFrom(text: string): number {
  let held = heldFromRun(text, TOKEN_PART, TOKEN_MAX, (t, i) => !wordBefore(t, i, "-") && couldStartToken(t, i));
  const begin = text.lastIndexOf(PEM_BEGIN);
  if (begin !== -1 && text.length - begin < PEM_MAX && !text.includes("-----END", begin)) {
    const headerEnd = text.indexOf("-----", begin + PEM_BEGIN.length);
    // A complete header that is not a private key's (a certificate, a public key) is not held.
    if (headerEnd === -1 || PEM_HEADER.test(text.slice(begin, headerEnd + 5))) held = Math.min(held, begin);
  }
  for (let k = Math.min(PEM_BEGIN.length, text.length); k > 0; k--) {
    if (text.endsWith(PEM_BEGIN.slice(0, k))) {
      held = Math.min(held, text.length - k);
      break;
    }
  }
  return held;
}

export const secrets: Matcher = {
  maxLength: Math.max(TOKEN_MAX, PEM_MAX),
  find: findSecrets,
  heldFrom,
};
