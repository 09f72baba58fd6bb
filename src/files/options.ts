import * as z from "zod";

/** OpenAI's own limit for one file (512 MB), the default here too. */
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;

export const FilesOptionsSchema = z
  .strictObject({
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_MAX_FILE_BYTES)
      .describe("The largest file /v1/files accepts, in bytes (default 512 MiB). Cloudflare's own request-body limit per plan applies first (README)."),
  })
  .describe("File uploads (/v1/files).");
export type FilesOptions = z.infer<typeof FilesOptionsSchema>;

/** The workspace's file limit: its `files.maxBytes`, else OpenAI's. */
export const maxFileBytesOf = (config: { files?: FilesOptions | undefined }): number => config.files?.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
