/**
 * Loads packages/common/proto/rayts/v1/*.proto (linked as proto/ at the repository root) at run time (protobufjs, no native code) and types the result with
 * the generated definitions committed under src/generated. The loader options here must match the
 * flags in scripts/gen-proto.mjs; the proto staleness test checks both agree.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as GcsProto } from '../generated/gcs.js';
import type { ProtoGrpcType as RayletProto } from '../generated/raylet.js';
import type { ProtoGrpcType as ActorProto } from '../generated/actor.js';

export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
export const PROTO_FILES = ['rayts/v1/actor.proto', 'rayts/v1/common.proto', 'rayts/v1/gcs.proto', 'rayts/v1/raylet.proto'];

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export type RaytsProto = (GcsProto & RayletProto & ActorProto)['rayts']['v1'];

let cached: RaytsProto | undefined;

export function raytsProto(): RaytsProto {
  if (!cached) {
    const definition = protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as GcsProto & RayletProto & ActorProto;
    cached = loaded.rayts.v1;
  }
  return cached;
}
