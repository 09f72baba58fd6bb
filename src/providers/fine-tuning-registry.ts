import type { ProviderConfig, ProviderType } from "../config/schema";
import { azureTuningApi } from "./azure/fine-tuning";
import { bedrockTuningApi } from "./bedrock/fine-tuning";
import type { ProviderTuningApi } from "./fine-tuning";
import { openAITuningApi } from "./openai/fine-tuning";
import { vertexTuningApi } from "./vertex/fine-tuning";

type TuningRegistry = { [T in ProviderType]?: ProviderTuningApi<Extract<ProviderConfig, { type: T }>> };

/** Providers whose fine-tuning API the gateway drives; the others have none it relays to. */
const tuningApis: TuningRegistry = {
  openai: openAITuningApi,
  azure: azureTuningApi,
  vertex: vertexTuningApi,
  bedrock: bedrockTuningApi,
};

export function tuningApiFor<C extends ProviderConfig>(config: C): ProviderTuningApi<C> | undefined {
  return tuningApis[config.type as C["type"]] as ProviderTuningApi<C> | undefined;
}

/** Whether `model` names a model that `type`'s fine-tuning makes (the ids the gateway guards per workspace). */
export function isTunedModelId(type: string, model: string): boolean {
  return tuningApis[type as ProviderType]?.tunedModelPattern.test(model) ?? false;
}
