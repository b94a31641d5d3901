// grpc-js unary server in a forked child: one method, raw bytes in and out (an empty message
// answers an empty message). Sends its port to the parent over IPC.
import * as grpc from '@grpc/grpc-js';
import { service } from './grpc-service.mjs';

const server = new grpc.Server();
const empty = Buffer.alloc(0);
server.addService(service, { Call: (_call, cb) => cb(null, empty) });
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) { console.error(err); process.exit(1); }
  process.send({ port });
});
const stop = () => server.tryShutdown(() => process.exit(0));
process.on('disconnect', stop);
process.on('SIGTERM', stop);
