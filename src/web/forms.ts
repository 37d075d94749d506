import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/** The GOV.UK error summary pattern: a list for the summary, and a message per field. */
export interface FormErrors {
  errorList: { text: string; href: string }[];
  errors: Record<string, { text: string }>;
}

export function formErrors(problems: readonly { field: string; message: string }[]): FormErrors {
  const errors: Record<string, { text: string }> = {};
  const errorList: FormErrors['errorList'] = [];
  for (const problem of problems) {
    if (errors[problem.field]) continue;
    errors[problem.field] = { text: problem.message };
    errorList.push({ text: problem.message, href: `#${problem.field}` });
  }
  return { errorList, errors };
}

/** Form bodies arrive as string maps; anything else is treated as empty. */
export function formBody(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [key, value] of Object.entries(body)) {
      if (typeof value === 'string') out[key] = value;
      else if (Array.isArray(value) && typeof value[0] === 'string') out[key] = value[0];
    }
  }
  return out;
}

/**
 * Only same-site paths are followed after sign-in. Printable ASCII only (no spaces, backslashes,
 * control or non-ASCII characters): the value goes into the Location header, where any other
 * character makes Node refuse to send the answer at all.
 */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^\/(?!\/)[\x21-\x5b\x5d-\x7e]*$/.test(value) ? value : undefined;
}

/** The largest file a form takes (a spreadsheet or a Word plan): larger is refused with 413. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** A file sent with a multipart form, read whole (app.ts registers @fastify/multipart so). */
export interface UploadedFile {
  filename: string;
  mimetype: string;
  data: Buffer;
}

/** The file a multipart form sent in this field, if any; an empty file input sends none. */
export function uploadedFile(body: unknown, name: string): UploadedFile | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  if (!value || typeof value !== 'object' || !('data' in value) || !Buffer.isBuffer(value.data))
    return undefined;
  const file = value as UploadedFile;
  return file.filename === '' && file.data.length === 0 ? undefined : file;
}

/**
 * The largest file a route that streams its uploads to disk takes (`config: { uploadToDisk: true }`:
 * the police.uk page, whose month files run to 40 MB and more).
 */
export const MAX_DISK_UPLOAD_BYTES = 200 * 1024 * 1024;

/** Temporary upload files are named so (in os.tmpdir()). */
export const UPLOAD_TEMP_PREFIX = 'pp-upload-';

/** A file sent to a route with `config: { uploadToDisk: true }`: streamed to a temporary file, never held in memory. */
export interface UploadedDiskFile {
  filename: string;
  mimetype: string;
  /** The temporary file: removed when the request is answered, unless the route takes it over. */
  path: string;
  bytes: number;
}

/** What a request keeps of its temporary upload files (app.ts removes them once it is answered). */
export interface DiskUploadRequest {
  uploadTempFiles: Set<string> | undefined;
}

/** Streams a multipart file part to a new temporary file, recorded on the request for removal. */
export async function saveUploadToDisk(
  request: DiskUploadRequest,
  part: { filename: string; mimetype: string; file: NodeJS.ReadableStream },
): Promise<UploadedDiskFile> {
  const target = path.join(os.tmpdir(), `${UPLOAD_TEMP_PREFIX}${crypto.randomUUID()}`);
  (request.uploadTempFiles ??= new Set()).add(target);
  try {
    await pipeline(part.file, fs.createWriteStream(target, { flags: 'wx' }));
  } catch (error) {
    await fs.promises.rm(target, { force: true });
    throw error;
  }
  const { size } = await fs.promises.stat(target);
  return { filename: part.filename, mimetype: part.mimetype, path: target, bytes: size };
}

/** Removes the request's temporary upload files that no route took over. */
export async function removeUploadedFiles(request: DiskUploadRequest): Promise<void> {
  const files = request.uploadTempFiles;
  if (!files?.size) return;
  request.uploadTempFiles = undefined;
  await Promise.all([...files].map((file) => fs.promises.rm(file, { force: true })));
}

/** The files a disk-upload form sent in this field (several with `multiple`); an empty file input sends none. */
export function uploadedDiskFiles(body: unknown, name: string): UploadedDiskFile[] {
  if (!body || typeof body !== 'object') return [];
  const value = (body as Record<string, unknown>)[name];
  const list = Array.isArray(value) ? value : [value];
  return list.filter(
    (item): item is UploadedDiskFile =>
      !!item &&
      typeof item === 'object' &&
      typeof (item as UploadedDiskFile).path === 'string' &&
      !((item as UploadedDiskFile).filename === '' && (item as UploadedDiskFile).bytes === 0),
  );
}

/**
 * The route takes these temporary files over: they are no longer removed when the request is
 * answered, and the route (or whatever it hands them to) must remove them.
 */
export function takeUploadedFiles(request: DiskUploadRequest, files: readonly UploadedDiskFile[]): void {
  for (const file of files) request.uploadTempFiles?.delete(file.path);
}
