/**
 * Which names a shipped function may use without defining them: the globals of a worker process.
 *
 * A worker is a fresh Node process running ES modules, so its globals are the ECMAScript ones plus
 * what Node installs on `globalThis` (process, Buffer, setTimeout, fetch, URL, ...). We take the
 * names on `globalThis` of this process at module load (the driver runs the same Node), add the
 * fixed ones below in case something deleted them, and drop names that only exist here: test
 * runner hooks, and CommonJS's module-wrapper variables, which ES modules (and so workers) lack.
 */

/** CommonJS module-wrapper variables: visible in a CommonJS driver, absent in a worker. */
export const COMMONJS_ONLY: ReadonlyMap<string, string> = new Map([
  ['require', "use `await import('…')` inside the function instead of require()"],
  ['module', 'there is no CommonJS `module` object in a worker; return values instead of exporting them'],
  ['exports', 'there is no CommonJS `exports` object in a worker; return values instead of exporting them'],
  ['__dirname', "compute paths from process.cwd() (the job's working directory) instead"],
  ['__filename', "compute paths from process.cwd() (the job's working directory) instead"],
]);

/** Globals every Node 20 process has, whatever this process did to its `globalThis`. */
const ALWAYS = [
  // ECMAScript
  'globalThis', 'undefined', 'NaN', 'Infinity', 'eval', 'isFinite', 'isNaN', 'parseFloat', 'parseInt',
  'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'unescape',
  'Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'BigInt', 'Date', 'RegExp',
  'Promise', 'Proxy', 'Reflect', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry',
  'Error', 'AggregateError', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError',
  'URIError', 'JSON', 'Math', 'Intl', 'Atomics', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'WebAssembly',
  // Node
  'global', 'process', 'Buffer', 'console', 'queueMicrotask', 'structuredClone', 'setTimeout',
  'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'atob', 'btoa',
  'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController', 'AbortSignal', 'Event',
  'EventTarget', 'MessageChannel', 'MessagePort', 'MessageEvent', 'BroadcastChannel', 'Blob',
  'performance', 'fetch', 'Headers', 'Request', 'Response', 'FormData', 'crypto', 'DOMException',
];

function isRunnerOnly(name: string): boolean {
  // vitest / vite inject these into the test process; they are not in a worker.
  return /^__vite/.test(name) || /^__vitest/.test(name);
}

/** Names a shipped function may use freely. */
export const WORKER_GLOBALS: ReadonlySet<string> = new Set(
  [...Object.getOwnPropertyNames(globalThis), ...ALWAYS].filter(
    (name) => !COMMONJS_ONLY.has(name) && !isRunnerOnly(name),
  ),
);

/**
 * Whether a free name looks like a helper or temporary a compiler put next to the function
 * (tsc/Babel/esbuild downlevelling: `__awaiter`, `__generator`, `_a`, `_this`, `_classCallCheck`, ...).
 */
export function looksLikeCompilerHelper(name: string): boolean {
  if (/^__vite_ssr_/.test(name)) return false; // explained separately
  return (
    /^__[A-Za-z]\w*$/.test(name) || // tsc/tslib and esbuild: __awaiter, __generator, __assign, __publicField, __name
    /^_[a-z]\d*$/.test(name) || // tsc temporaries: _a, _b, _c1
    /^_(?:this|super|self|ref|arguments|context|iterator|loop|class|temp|extends|typeof)\d*$/.test(name) ||
    /^tslib(?:_\d+)?$/.test(name) ||
    /^_[A-Z][\w$]*_[\w$]+$/.test(name) || // tsc's stores and functions of private members: _Counter_instances, _Counter_m
    /^[\w$]+_fn$/.test(name) || // esbuild's private methods: twice_fn
    name === 'regeneratorRuntime' ||
    // Babel helpers: _classCallCheck, _asyncToGenerator, _defineProperty, _inherits, ...
    /^_(?:async|class|create|define|inherits|get|set|to|interop|object|sliced|possible|assert|apply|initializer|wrap|call|construct|is|super|array|iterable|non|unsupported|check)[A-Z]\w*$/.test(
      name,
    )
  );
}
