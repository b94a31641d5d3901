/** A bare gRPC client over the loaded protos, to call any method with any (or no) token. */
import * as grpc from '@grpc/grpc-js';
import { raytsProto } from '@rayts/common';

export interface MethodRef {
  service: string;
  name: string;
  path: string;
  responseStream: boolean;
}

type ServiceDefinition = Record<string, grpc.MethodDefinition<unknown, unknown> & { path: string }>;

export function methodsOf(serviceNames: string[]): MethodRef[] {
  const proto = raytsProto() as unknown as Record<string, { service: ServiceDefinition }>;
  return serviceNames.flatMap((service) => Object.entries(proto[service]!.service)
    .filter(([name]) => /^[A-Z]/.test(name))
    .map(([name, def]) => ({ service, name, path: def.path, responseStream: def.responseStream })));
}

/** Calls `method` with an empty request; resolves with the final status code. */
export function callRaw(address: string, method: MethodRef, token: string | undefined): Promise<{ code: number; details: string }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  const serialize = () => Buffer.alloc(0);
  const deserialize = (b: Buffer) => b;
  const deadline = Date.now() + 10_000;
  return new Promise((resolve) => {
    const done = (code: number, details: string) => { client.close(); resolve({ code, details }); };
    if (method.responseStream) {
      const call = client.makeServerStreamRequest(method.path, serialize, deserialize, {}, metadata, { deadline });
      call.on('data', () => undefined);
      call.on('error', (e: grpc.ServiceError) => done(e.code, e.details));
      call.on('end', () => done(grpc.status.OK, ''));
    } else {
      client.makeUnaryRequest(method.path, serialize, deserialize, {}, metadata, { deadline },
        (err) => done(err ? err.code : grpc.status.OK, err ? err.details : ''));
    }
  });
}
