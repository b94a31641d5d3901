// Shipping functions and classes by source.
export {
  describeRemote,
  hashRemoteSource,
  ClosureError,
  RemoteSourceError,
  type RemoteSource,
} from './describe.js';
export { functionDescriptorBytes, parseFunctionDescriptor, type RemoteFunctionDescriptor, type RemoteKind } from './descriptor.js';
export { compileRemote, remoteSourceURL, type CompileOptions, type Importer } from './compile.js';
export { makeImporter, ModuleResolutionError, type ImporterOptions, type JobImporter } from './importer.js';
