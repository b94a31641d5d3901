/**
 * Client of the head's PackageService: drivers and the CLI upload working_dir packages, raylets
 * download the ones their jobs need. Both directions stream in chunks with backpressure, so a
 * package is never held in memory whole; a download is checked against the sha256 in its URI.
 */
import { randomBytes, createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as grpc from '@grpc/grpc-js';
import { PackageRejectedError } from '../errors.js';
import { parsePackageUri } from '../runtime_env/package_uri.js';
import type { PackageServiceClient } from '../generated/rayts/v1/PackageService.js';
import type { PackageChunk, PackageChunk__Output } from '../generated/rayts/v1/PackageChunk.js';
import type { UploadPackageReply__Output } from '../generated/rayts/v1/UploadPackageReply.js';
import { makeClient, unaryCall, type ClientOptions } from './client.js';
import { raytsProto } from './proto.js';
import { toRaytsError } from './status.js';

export interface PackageClientOptions extends ClientOptions {
  /** Bytes per uploaded chunk (the jobPackageChunkBytes tunable). */
  chunkBytes: number;
}

const PACKAGE_WINDOW_CHUNKS = 4;

export class PackageClient {
  private readonly client: PackageServiceClient;

  constructor(readonly address: string, private readonly options: PackageClientOptions) {
    // A few chunks of window: a download then holds at most that much received but not yet written.
    this.client = makeClient(raytsProto().PackageService, address, { ...options, flowControlWindowBytes: PACKAGE_WINDOW_CHUNKS * options.chunkBytes });
  }

  private failure(err: unknown): Error {
    return toRaytsError(err, this.address, 'head');
  }

  /** Whether the head has the package, and its size. */
  async exists(uri: string): Promise<{ exists: boolean; size: number }> {
    parsePackageUri(uri);
    const reply = await unaryCall<{ exists: boolean; size: number }>(
      (md, o, cb) => this.client.PackageExists({ uri }, md, o, cb), this.options.timeoutMs, this.address, 'head');
    return { exists: reply.exists, size: Number(reply.size) };
  }

  /**
   * Streams `file` to the head as `uri` (no deadline: a large package on a slow link takes what it
   * takes). The head checks the digest and the entries: PackageRejectedError, PackageTooLargeError.
   */
  async upload(uri: string, file: string, onProgress?: (sentBytes: number, totalBytes: number) => void): Promise<{ size: number; existed: boolean }> {
    parsePackageUri(uri);
    const totalBytes = (await stat(file)).size;
    let settled = false;
    let call!: grpc.ClientWritableStream<PackageChunk>;
    const reply = new Promise<UploadPackageReply__Output>((resolve, reject) => {
      call = this.client.UploadPackage(new grpc.Metadata(), {}, (err, res) => {
        settled = true;
        if (err) reject(this.failure(err));
        else resolve(res!);
      });
    });
    // Settles when the head answered (early, for a refusal): the pump then stops writing.
    const answered = reply.then(() => undefined, () => undefined);
    const pump = async () => {
      let sent = 0;
      let first = true;
      try {
        for await (const data of createReadStream(file, { highWaterMark: this.options.chunkBytes })) {
          if (settled) return;
          const chunk: PackageChunk = first ? { uri, size: totalBytes, data: data as Buffer } : { data: data as Buffer };
          first = false;
          sent += (data as Buffer).length;
          // One chunk in flight at a time: grpc-js would queue 16 before write() says to wait (16 chunks of memory).
          await Promise.race([new Promise((resolve) => call.write(chunk, resolve)), answered]);
          onProgress?.(sent, totalBytes);
        }
        if (first) call.write({ uri, size: totalBytes, data: Buffer.alloc(0) });
        call.end();
      } catch (err) {
        call.cancel();
        throw err;
      }
    };
    const [res] = await Promise.all([reply, pump()]);
    return { size: Number(res.size), existed: res.existed };
  }

  /**
   * Streams the package to `destFile` through a temp file beside it, renamed into place once its
   * sha256 matches the URI (PackageRejectedError otherwise; nothing is left). Returns its bytes.
   */
  async download(uri: string, destFile: string): Promise<number> {
    const { sha256 } = parsePackageUri(uri);
    await mkdir(dirname(destFile), { recursive: true });
    const temp = `${destFile}.${randomBytes(6).toString('hex')}.part`;
    const hash = createHash('sha256');
    let bytes = 0;
    const call = this.client.DownloadPackage({ uri }, new grpc.Metadata(), {});
    const unwrap = new Transform({
      readableObjectMode: false,
      writableObjectMode: true,
      transform(chunk: PackageChunk__Output, _enc, done) {
        hash.update(chunk.data);
        bytes += chunk.data.length;
        done(null, chunk.data);
      },
    });
    try {
      try {
        await pipeline(call, unwrap, createWriteStream(temp, { mode: 0o600 }));
      } catch (err) {
        throw this.failure(err);
      }
      const digest = hash.digest('hex');
      if (digest !== sha256) {
        throw new PackageRejectedError(`the package ${uri} downloaded from ${this.address} has sha256 ${digest}: its content does not match its name`,
          'the head\'s copy is damaged; submit the job again to upload it anew');
      }
      await rename(temp, destFile);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return bytes;
  }

  close(): void {
    this.client.close();
  }
}
