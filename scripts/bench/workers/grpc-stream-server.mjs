// The transport's ceiling for inter_node.mjs: a gRPC server built like a raylet's (rayts's own
// server options) that streams an in-memory object in the raylet's chunk size; no object store.
import * as common from '../../../packages/common/dist/index.js';

const logger = { info() {}, warn() {}, error() {}, debug() {} };
const bytes = Number(process.argv[2]) * 1024 * 1024;
const chunk = Number(process.argv[3]) * 1024 * 1024;
const data = Buffer.alloc(bytes, 7);
const server = common.createServer({ token: 'bench', logger, maxMessageBytes: 64 * 1024 * 1024 });
server.addService(common.raytsProto().RayletService.service, {
  PullObject: common.serverStream(logger, 'PullObject', async (_req, call) => {
    for (let offset = 0; offset < bytes; offset += chunk) {
      const piece = { offset, totalSize: bytes, data: data.subarray(offset, offset + chunk) };
      await new Promise((resolve) => (call.write(piece) ? resolve() : call.once('drain', resolve)));
    }
  }),
});
process.send(await common.bindServer(server, '127.0.0.1', 0, undefined, 'bench'));
process.on('disconnect', () => process.exit(0));
