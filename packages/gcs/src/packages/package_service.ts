/**
 * PackageService: the gRPC side of the head's PackageStore. Uploads stream from drivers and the CLI
 * into `store.put` with backpressure (the call is paused while the store is behind); downloads
 * stream a package file to raylets in jobPackageChunkBytes chunks, as fast as each raylet reads.
 * Package errors carry their class (and a too-large package its limit) in trailers, so clients
 * throw PackageTooLargeError / PackageRejectedError again (common/grpc/status.ts).
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import {
  RpcError, RuntimeEnvError, asStatus, packageErrorStatus, parsePackageUri, raytsProto, serverStream, unary,
  type Config, type Logger, type PackageChunk, type PackageChunk__Output, type UploadPackageReply, withRequestSchemas,
} from '@rayts/common';
import { packageServiceSchemas } from '../request_schemas.js';
import type { PackageStore } from './package_store.js';

export type PackageServiceStore = Pick<PackageStore, 'info' | 'put' | 'path'>;

/** The URI, or INVALID_ARGUMENT saying what is wrong with it. */
function validUri(uri: string): string {
  try {
    parsePackageUri(uri);
  } catch (err) {
    if (err instanceof RuntimeEnvError) throw new RpcError(grpc.status.INVALID_ARGUMENT, err.message);
    throw err;
  }
  return uri;
}

function uploadStatus(logger: Logger, err: unknown): Partial<grpc.StatusObject> {
  return packageErrorStatus(err) ?? asStatus(logger, 'UploadPackage', err);
}

/** One upload: the first chunk names the package; its data and the rest become the body given to the store. */
function receiveUpload(store: PackageServiceStore, logger: Logger,
  call: grpc.ServerReadableStream<PackageChunk__Output, UploadPackageReply>, callback: grpc.sendUnaryData<UploadPackageReply>): void {
  let answered = false;
  const answer = (status: Partial<grpc.StatusObject> | null, reply?: UploadPackageReply) => {
    if (answered) return;
    answered = true;
    if (status) callback(status);
    else callback(null, reply);
  };
  const body = new Readable({ read: () => call.resume() });
  // The store reads the error through its iterator; once it stopped reading (refused the upload), a
  // later destroy must not be an unhandled 'error'.
  body.on('error', () => undefined);
  let started = false;
  call.on('data', (chunk: PackageChunk__Output) => {
    if (answered) return;
    if (!started) {
      started = true;
      try {
        validUri(chunk.uri);
      } catch (err) {
        answer(uploadStatus(logger, err));
        return;
      }
      store.put(chunk.uri, body, Number(chunk.size)).then(
        (r) => answer(null, { size: r.size, existed: r.existed }),
        (err: unknown) => answer(uploadStatus(logger, err)),
      );
    }
    if (chunk.data.length > 0 && !body.push(chunk.data)) call.pause();
  });
  let ended = false;
  call.on('end', () => {
    ended = true;
    if (!started) answer({ code: grpc.status.INVALID_ARGUMENT, details: 'the upload had no chunk: the first one names the package (uri) and its size' });
    else body.push(null);
  });
  // The client went away (cancelled, connection lost): the store's read fails and it deletes its temp file.
  const gone = (err?: Error) => {
    // Not a failure of the head: answered (to nobody) as CANCELLED, not logged as an unexpected error.
    if (!ended) body.destroy(new RpcError(grpc.status.CANCELLED, err ? `the upload's call failed: ${err.message}` : 'the client went away before the end of the upload'));
  };
  call.on('error', gone);
  call.on('close', () => gone());
}

async function sendPackage(store: PackageServiceStore, chunkBytes: number, uri: string, call: grpc.ServerWritableStream<unknown, PackageChunk>): Promise<void> {
  const missing = () => new RpcError(grpc.status.NOT_FOUND, `the head has no package ${uri}`);
  const file = store.path(validUri(uri));
  if (!file) throw missing();
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missing(); // deleted meanwhile
    throw err;
  }
  const cancelled = new Promise<void>((resolve) => call.once('cancelled', resolve));
  try {
    const size = (await handle.stat()).size;
    let first = true;
    for await (const data of handle.createReadStream({ highWaterMark: chunkBytes, autoClose: false })) {
      if (call.cancelled) return;
      const chunk: PackageChunk = first ? { uri, size, data: data as Buffer } : { data: data as Buffer };
      first = false;
      // One chunk in flight at a time: grpc-js would queue 16 before write() says to wait.
      await Promise.race([new Promise((resolve) => call.write(chunk, resolve)), cancelled]);
    }
    if (first) call.write({ uri, size, data: Buffer.alloc(0) });
  } finally {
    await handle.close();
  }
}

export function addPackageService(server: grpc.Server, store: PackageServiceStore, config: Pick<Config, 'jobPackageChunkBytes'>, logger: Logger): void {
  const service = raytsProto().PackageService.service;
  server.addService(service, withRequestSchemas(service, packageServiceSchemas, {
    PackageExists: unary(logger, 'PackageExists', (req: { uri: string }) => store.info(validUri(req.uri))),
    UploadPackage: (call: grpc.ServerReadableStream<PackageChunk__Output, UploadPackageReply>, callback: grpc.sendUnaryData<UploadPackageReply>) =>
      receiveUpload(store, logger, call, callback),
    DownloadPackage: serverStream(logger, 'DownloadPackage', (req: { uri: string }, call: grpc.ServerWritableStream<unknown, PackageChunk>) =>
      sendPackage(store, config.jobPackageChunkBytes, req.uri, call)),
  }));
}
