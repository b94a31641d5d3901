// The benchmark's gRPC service: one unary method, raw bytes in and out (no protobuf codegen;
// an empty `bytes` message encodes to zero bytes).
const id = (b) => b;
export const service = {
  Call: { path: '/bench.Bench/Call', requestStream: false, responseStream: false,
    requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id },
};
