// Shipping functions and classes by source (DESIGN.md §3).
export {
  describeRemote,
  hashRemoteSource,
  ClosureError,
  RemoteSourceError,
  type RemoteKind,
  type RemoteSource,
} from './describe.js';
export { compileRemote, remoteSourceURL, type CompileOptions, type Importer } from './compile.js';
export { makeImporter, ModuleResolutionError, type ImporterOptions, type JobImporter } from './importer.js';
