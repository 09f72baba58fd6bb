import type { StreamRenderer } from "../dialects/stream-renderer";
import type { ChatMessage, ChatRequest, ChatResult, ContentPart, StreamEvent, TextPart, ToolCall } from "../schema/internal";
import { blockedBy, checkText, StreamTextCheck, type CheckContext } from "./check";
import type { CompiledPolicy, CompiledRule } from "./compile";
import { ScanBudget } from "./deny";
import { PlaceholderVault, StreamRestorer } from "./placeholders";
import { GuardrailTally } from "./tally";

/**
 * The guardrails of one request, on the gateway's internal form (src/schema/internal.ts): the prompt is
 * checked before any upstream call, and the answer — a whole result, or a stream of events — on its way to the
 * client. Any dialect parsed into `ChatRequest` and rendered from `ChatResult` / `StreamEvent`s gets them.
 */
export class RequestGuard {
  readonly policy: CompiledPolicy;
  readonly tally = new GuardrailTally();
  readonly #context: CheckContext;
  readonly #vault = new PlaceholderVault();
  readonly #matchRules: CompiledRule[];

  constructor(policy: CompiledPolicy) {
    this.policy = policy;
    this.#context = { vault: this.#vault, tally: this.tally, budget: new ScanBudget() };
    this.#matchRules = policy.input.filter((rule) => rule.matchers.length > 0);
  }

  /** Whether the answer needs any work: output rules, or placeholders to map back. */
  get checksOutput(): boolean {
    return this.policy.output.length > 0 || this.#restores;
  }

  get #restores(): boolean {
    return this.policy.restore && this.#vault.size > 0;
  }

  /** The prompt as the provider may see it; throws the `guardrail` error of a blocking rule. */
  checkInput(request: ChatRequest): ChatRequest {
    this.#checkSize(promptChars(request));
    if (this.#matchRules.length === 0) return request;
    const check = (text: string) => checkText(text, this.#matchRules, "input", this.#context);
    let changed = false;
    const messages = request.messages.map((message) => {
      const checked = checkMessage(message, check);
      if (checked !== message) changed = true;
      return checked;
    });
    return changed ? { ...request, messages } : request;
  }

  /** Embedding inputs as the provider may see them (input rules; there is no answer text to check). */
  checkTexts(texts: string[]): string[] {
    this.#checkSize(texts.reduce((sum, text) => sum + text.length, 0));
    if (this.#matchRules.length === 0) return texts;
    return texts.map((text) => checkText(text, this.#matchRules, "input", this.#context));
  }

  #checkSize(chars: number): void {
    for (const rule of this.policy.input) {
      if (rule.maxChars === undefined || chars <= rule.maxChars) continue;
      if (rule.action === "block") {
        this.tally.add(rule.name, "blocked");
        throw blockedBy(rule.name, "input");
      }
      this.tally.add(rule.name, "flagged");
    }
  }

  /**
   * A complete answer as the client may see it (output rules, then placeholders mapped back). Reasoning is left
   * out: signed thinking cannot be redacted without breaking its signature, so it never passes unchecked.
   */
  checkResult(result: ChatResult): ChatResult {
    if (!this.checksOutput) return result;
    const answer = (text: string) => this.#restore(checkText(text, this.policy.output, "output", this.#context));
    const text = answer(result.text);
    const toolCalls = result.toolCalls.map((call) => withArguments(call, answer(call.arguments)));
    const { reasoning: _reasoning, ...checked } = result;
    return { ...checked, text, toolCalls };
  }

  #restore(text: string): string {
    return this.policy.restore ? this.#vault.restore(text) : text;
  }

  /** Renders a stream through the output checks: `renderer` sees checked events, in the order they came. */
  guardStream(renderer: StreamRenderer): StreamRenderer {
    return this.checksOutput ? new GuardedStreamRenderer(renderer, this.policy.output, this.#context, this.policy.restore ? this.#vault : undefined) : renderer;
  }
}

/** Characters of text the provider would see: every text part and tool-call argument. */
export function promptChars(request: ChatRequest): number {
  let chars = 0;
  for (const message of request.messages) {
    for (const part of message.content) if (part.type === "text") chars += part.text.length;
    if (message.role === "assistant") for (const call of message.toolCalls) chars += call.arguments.length;
  }
  return chars;
}

function checkParts<P extends ContentPart>(parts: P[], check: (text: string) => string): P[] {
  let changed = false;
  const out = parts.map((part) => {
    if (part.type !== "text") return part;
    const text = check(part.text);
    if (text === part.text) return part;
    changed = true;
    return { ...part, text };
  });
  return changed ? out : parts;
}

const withArguments = (call: ToolCall, args: string): ToolCall => (args === call.arguments ? call : { ...call, arguments: args });

function checkMessage(message: ChatMessage, check: (text: string) => string): ChatMessage {
  switch (message.role) {
    case "system": {
      const content = checkParts<TextPart>(message.content, check);
      return content === message.content ? message : { ...message, content };
    }
    case "user":
    case "tool": {
      const content = checkParts(message.content, check);
      return content === message.content ? message : { ...message, content };
    }
    case "assistant": {
      const content = checkParts<TextPart>(message.content, check);
      const toolCalls = message.toolCalls.map((call) => withArguments(call, check(call.arguments)));
      return content === message.content && toolCalls.every((call, i) => call === message.toolCalls[i]) ? message : { ...message, content, toolCalls };
    }
  }
}

/** One text channel of a stream: the answer's text, or one tool call's arguments. */
type Channel = { check: StreamTextCheck; restorer: StreamRestorer | undefined; emit: (text: string) => StreamEvent };

/**
 * A stream renderer that checks text and tool-call arguments as they pass, holding back only what a match may
 * still need, and flushes whatever it holds before a different kind of event so the client sees events in the
 * order they came. A block throws the `guardrail` error, which the stream reports as its error event before it
 * fails (src/pipeline/stream.ts).
 */
class GuardedStreamRenderer implements StreamRenderer {
  readonly #inner: StreamRenderer;
  readonly #rules: readonly CompiledRule[];
  readonly #context: CheckContext;
  readonly #vault: PlaceholderVault | undefined;
  readonly #channels = new Map<string, Channel>();
  #open: Channel | undefined;

  constructor(inner: StreamRenderer, rules: readonly CompiledRule[], context: CheckContext, vault: PlaceholderVault | undefined) {
    this.#inner = inner;
    this.#rules = rules;
    this.#context = context;
    this.#vault = vault;
  }

  event(event: StreamEvent): string {
    switch (event.type) {
      case "text":
        return this.#pass(this.#channel("text", (delta) => ({ type: "text", delta })), event.delta);
      case "tool_call_delta": {
        const index = event.index;
        return this.#pass(this.#channel(`tool:${index}`, (argumentsDelta) => ({ type: "tool_call_delta", index, argumentsDelta })), event.argumentsDelta);
      }
      case "start":
      case "usage":
        return this.#inner.event(event);
      case "reasoning":
      case "reasoning_signature":
      case "reasoning_redacted":
        // Left out, as in checkResult: thinking is not shown where output rules apply.
        return "";
      default:
        // tool_call_start, finish: whatever is held comes first.
        return this.#flush() + this.#inner.event(event);
    }
  }

  async end(): Promise<string> {
    return (await this.#inner.end?.()) ?? "";
  }

  error(error: Parameters<StreamRenderer["error"]>[0]): string {
    return this.#inner.error(error);
  }

  #channel(key: string, emit: (text: string) => StreamEvent): Channel {
    let channel = this.#channels.get(key);
    if (!channel) {
      channel = { check: new StreamTextCheck(this.#rules, this.#context), restorer: this.#vault ? new StreamRestorer(this.#vault) : undefined, emit };
      this.#channels.set(key, channel);
    }
    return channel;
  }

  #pass(channel: Channel, piece: string): string {
    let out = "";
    if (this.#open && this.#open !== channel) out += this.#flush();
    this.#open = channel;
    const checked = channel.check.push(piece);
    const released = channel.restorer ? channel.restorer.push(checked) : checked;
    return released === "" ? out : out + this.#inner.event(channel.emit(released));
  }

  #flush(): string {
    const channel = this.#open;
    this.#open = undefined;
    if (!channel) return "";
    const checked = channel.check.flush();
    const released = channel.restorer ? channel.restorer.push(checked) + channel.restorer.flush() : checked;
    return released === "" ? "" : this.#inner.event(channel.emit(released));
  }
}

