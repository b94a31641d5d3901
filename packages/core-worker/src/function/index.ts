// Shipping functions and classes by source.
export {
  describeRemote,
  hashRemoteSource,
} from './describe.js';
export { functionDescriptorBytes, parseFunctionDescriptor, type RemoteFunctionDescriptor, type RemoteKind } from './descriptor.js';
export { compileRemote, remoteSourceURL, type CompileOptions, type Importer } from './compile.js';
export { makeImporter, type ImporterOptions, type JobImporter } from './importer.js';
