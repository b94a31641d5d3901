/**
 * working_dir packages over HTTP (Ray's `/api/packages/{protocol}/{name}`): `GET` says whether the
 * head has one, `PUT` uploads one. An upload is streamed into the PackageApi, never buffered, so it
 * may be far larger than the server's general body limit (1 MiB): only `application/octet-stream`
 * bodies of this plugin's routes get the raw stream (the parser is registered in this plugin's own
 * encapsulated context), every other route and content type keeps fastify's limit. Over
 * `PackageApi.maxBytes` → 413, from Content-Length before a byte is read, else while streaming.
 */
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, PACKAGE_PROTOCOL, PackageTooLargeError, formatBytes, packageUri, shaOfPackageName } from '@rayts/common';
import type { PackageApi } from '@rayts/gcs';
import { BadRequestError, HttpError } from '../errors.js';
import type { PackageInfoReply, PutPackageReply } from './job_json.js';

export interface PackageRoutesDeps {
  packages: PackageApi;
}

type PackageParams = { Params: { protocol: string; name: string } };

const UPLOAD_TYPE = 'application/octet-stream';

function tooLarge(limit: number, size: number | undefined): PackageTooLargeError {
  const what = size === undefined ? `more than ${formatBytes(limit)} were sent` : `the package is ${formatBytes(size)}`;
  return new PackageTooLargeError(limit, `${what}, over the head's limit of ${formatBytes(limit)} (${limit} bytes, RAYTS_JOB_PACKAGE_MAX_BYTES)`,
    'leave files out of the working_dir (runtime_env excludes, .gitignore), or raise RAYTS_JOB_PACKAGE_MAX_BYTES on the head');
}

/** Passes bytes through until more than `limit` went by, then fails with PackageTooLargeError. */
class ByteLimit extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) callback(tooLarge(this.limit, undefined));
    else callback(null, chunk);
  }
}

/** The package URI the route parameters name; 400 naming the expected form otherwise. */
function uriOf(params: { protocol: string; name: string }): string {
  if (params.protocol !== PACKAGE_PROTOCOL) {
    throw new BadRequestError(`'${params.protocol.slice(0, 100)}' is not a package protocol: packages live under /api/packages/${PACKAGE_PROTOCOL}/<name>`);
  }
  const sha = shaOfPackageName(params.name);
  if (!sha) {
    throw new BadRequestError(`'${params.name.slice(0, 200)}' is not a package name: expected _rayts_pkg_<sha256>.tar.gz (the archive's sha256 in lower-case hex)`,
      '`rayts job submit --working-dir DIR` packs and names packages');
  }
  return packageUri(sha);
}

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header === undefined ? undefined : Number(header);
}

/** A refusal while the client may still be sending: the connection closes after the answer. */
function closing(reply: FastifyReply, err: unknown): unknown {
  reply.header('connection', 'close');
  return err;
}

export function packageRoutes(deps: PackageRoutesDeps): FastifyPluginAsync {
  const { packages } = deps;
  return async (app) => {
    app.addContentTypeParser(UPLOAD_TYPE, (_request, payload, done) => done(null, payload));

    app.get<PackageParams>('/api/packages/:protocol/:name', async (req): Promise<PackageInfoReply> => {
      const uri = uriOf(req.params);
      const info = packages.info(uri);
      if (!info.exists) throw new NotFoundError(`package ${uri} is not on the head`, 'upload it with PUT (`rayts job submit --working-dir` does)');
      return { exists: true, size: info.size };
    });

    app.put<PackageParams>('/api/packages/:protocol/:name', {
      // Before fastify picks a parser: the name, the content type and a declared length are checked
      // while no byte of the body was read.
      preParsing: async (req, reply, payload) => {
        uriOf(req.params);
        const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== UPLOAD_TYPE) {
          throw closing(reply, new HttpError(415, `a package upload must be sent as ${UPLOAD_TYPE}, got '${type || 'no content type'}'`));
        }
        const declared = declaredLength(req);
        if (declared !== undefined && declared > packages.maxBytes) throw closing(reply, tooLarge(packages.maxBytes, declared));
        return payload;
      },
    }, async (req, reply): Promise<PutPackageReply> => {
      const uri = uriOf(req.params);
      const limited = new ByteLimit(packages.maxBytes);
      let streamError: unknown;
      pipeline(req.body as Readable, limited, (err) => { streamError = err; });
      try {
        const stored = await packages.put(uri, limited, declaredLength(req));
        return { uri, size: stored.size, existed: stored.existed };
      } catch (err) {
        // The limit counted here wins over however the store saw its stream end.
        const cause = streamError instanceof PackageTooLargeError ? streamError : err;
        throw closing(reply, cause);
      } finally {
        limited.destroy();
      }
    });
  };
}
