import * as z from "zod";
import { AuditEntrySchema } from "../../audit/entry";
import { CredentialNameSchema } from "../../config/credential-store";
import { AdminRoleSchema } from "../../policy/admin-access";
import { AdminTokenPolicySchema } from "../../policy/admin-tokens";
import { KeyPolicySchema } from "../../policy/keys";
import { BudgetSchema, RateLimitSchema } from "../../policy/limit-schemas";
import { WorkspaceIdSchema, WorkspaceSchema } from "../../policy/workspaces";

/**
 * Every admin payload and answer as a zod schema: handlers validate with them and the OpenAPI document
 * (`/admin/openapi.json`) is generated from them, so the two cannot drift apart.
 */

export const CreateWorkspaceSchema = z.strictObject({ id: WorkspaceIdSchema, name: z.string().min(1).max(200) });

export const CreateKeySchema = KeyPolicySchema.extend({ name: z.string().min(1).max(200) }).strict();

/** A PATCH changes only the fields it names; `null` removes a limit, budget, route list or expiry. */
export const UpdateKeySchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    rateLimit: RateLimitSchema.nullable().optional(),
    budget: BudgetSchema.nullable().optional(),
    routes: z.array(z.string().min(1)).min(1).nullable().optional(),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .refine((change) => Object.keys(change).length > 0, "send at least one of name, rateLimit, budget, routes, expiresAt");

export const PublicKeySchema = KeyPolicySchema.extend({ id: z.string(), workspaceId: z.string(), name: z.string(), createdAt: z.string() });
export const CreatedKeySchema = PublicKeySchema.extend({ key: z.string().describe("The key itself: shown once, stored only as a hash.") });

export const PutCredentialSchema = z.strictObject({ value: z.string().min(1).max(16_384).describe("The provider secret; stored encrypted, never returned.") });
export const CredentialInfoSchema = z.object({
  name: CredentialNameSchema,
  masterKeyId: z.string().describe("Id of the master key it is encrypted under."),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const RotationReportSchema = z.object({
  masterKeyId: z.string(),
  rotated: z.number().int(),
  unchanged: z.number().int(),
  failed: z.array(z.object({ workspaceId: z.string(), name: z.string(), masterKeyId: z.string() })),
});

export const LimiterSnapshotSchema = z.object({
  requestsInWindow: z.number().int(),
  tokensInWindow: z.number().int(),
  reservations: z.number().int().describe("Leases still holding part of the budget (requests admitted under them not yet settled)."),
  reservedUsd: z.number(),
  openLeases: z.number().int().describe("Unexpired leases covering this scope."),
  holders: z.number().int().describe("Isolates (or nodes) holding those leases."),
  exchanges: z.number().int().describe("Lease exchanges this limiter instance has served since it started."),
  spend: z.array(z.object({ periodKey: z.string().describe("d:YYYY-MM-DD, m:YYYY-MM or total (UTC)"), usd: z.number() })),
});

export const IdentitySchema = z.object({
  id: z.string().describe("The token's id; `ADMIN_TOKEN` for the secret."),
  name: z.string(),
  role: AdminRoleSchema,
  workspaces: z.array(z.string()).nullable().describe("The workspaces it may act on; null: every workspace."),
});

export const CreateAdminTokenSchema = AdminTokenPolicySchema.strict().superRefine((token, ctx) => {
  if (token.role === "owner" && token.workspaces !== undefined) ctx.addIssue({ code: "custom", path: ["workspaces"], message: "an owner token acts on every workspace; leave workspaces out" });
  if (token.role === "workspace_admin" && token.workspaces === undefined) ctx.addIssue({ code: "custom", path: ["workspaces"], message: "a workspace_admin token needs the list of its workspaces" });
});
export const PublicAdminTokenSchema = AdminTokenPolicySchema.extend({ id: z.string(), createdAt: z.string(), createdBy: z.string() });
export const CreatedAdminTokenSchema = PublicAdminTokenSchema.extend({ token: z.string().describe("The token itself: shown once, stored only as a hash.") });

export const AuditPageSchema = z.object({
  data: z.array(AuditEntrySchema),
  next: z.string().nullable().describe("Pass as `cursor` for the next (older) page; null on the last page."),
});

export const ErrorSchema = z.object({ error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }) });

export const DeletedSchema = z.object({ id: z.string(), deleted: z.literal(true) });

export const listOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item) });

export { WorkspaceIdSchema, WorkspaceSchema };
