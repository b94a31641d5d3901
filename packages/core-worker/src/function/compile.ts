/**
 * The worker side of shipping code by value: evaluate a {@link RemoteFunctionDescriptor} back into a function or
 * class whose dynamic `import()`s go through an importer of our choosing.
 *
 * Why rewrite: in Node 20, `import(x)` inside code built with `new Function` resolves `x` relative to
 * the module that called `new Function` (this file), not the job, and `vm.compileFunction`'s
 * `importModuleDynamically` needs --experimental-vm-modules. So each `import(` keyword (an acorn
 * ImportExpression) becomes a call of a hidden parameter, and `import.meta` (a syntax error outside
 * modules) a hidden object. Everything else stays byte-identical, so stack positions stay close to
 * the driver's source.
 */
import { parse } from 'acorn';
import { full } from 'acorn-walk';
import { RemoteSourceError } from '../errors.js';
import { PARSE_OPTIONS, hashRemoteSource } from './describe.js';
import type { RemoteFunctionDescriptor } from './descriptor.js';

/** Loads a module for remote code: `import(specifier)` inside shipped code calls this. */
export type Importer = (specifier: string) => Promise<unknown>;

export interface CompileOptions {
  importer: Importer;
  /** What `import.meta` is inside the code; default `{ url: 'rayts://<kind>/<name>' }`. */
  importMeta?: object;
}

/** Counters for tests and diagnostics. */
export const compileStats = { compiles: 0 };

interface Compiled {
  value: Function;
  importMeta: object | undefined;
}

const cache = new WeakMap<Importer, Map<string, Compiled>>();

/** The URL stack traces show for shipped code. */
export function remoteSourceURL(src: Pick<RemoteFunctionDescriptor, 'kind' | 'name'>): string {
  return `rayts://${src.kind}/${encodeURIComponent(src.name || 'anonymous')}`;
}

/**
 * Evaluates `src` (strict mode) and returns the function or class. Results are cached by hash and
 * name (per importer), so a worker compiles each function once however many tasks run it.
 */
export function compileRemote(src: RemoteFunctionDescriptor, options: CompileOptions): Function {
  const { importer, importMeta } = options;
  let perImporter = cache.get(importer);
  if (!perImporter) {
    perImporter = new Map();
    cache.set(importer, perImporter);
  }
  // the name is part of the key: equal sources (`(x) => x * x`) may be shipped under different names,
  // and the name shows in stack traces (sourceURL) and as the function's name
  const key = `${src.hash}/${src.name}`;
  const hit = perImporter.get(key);
  if (hit && hit.importMeta === importMeta) return hit.value;

  if (hashRemoteSource(src.kind, src.source) !== src.hash) {
    throw new RemoteSourceError(`the source of remote ${src.kind} '${src.name}' does not match its hash ${src.hash}`);
  }
  compileStats.compiles++;
  const { code, importName, metaName } = rewriteImports(src.source);
  const sourceURL = remoteSourceURL(src);
  const body = `'use strict'; return (${code}\n);\n//# sourceURL=${sourceURL}\n`;
  let value: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    value = new Function(importName, metaName, body)(importer, importMeta ?? { url: sourceURL });
  } catch (err) {
    throw new RemoteSourceError(
      `cannot compile remote ${src.kind} '${src.name}': ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof value !== 'function') {
    throw new RemoteSourceError(`the source of remote ${src.kind} '${src.name}' does not evaluate to a function`);
  }
  // `(x) => …` evaluated on its own is anonymous, and a class lowered by esbuild is `_C` until its
  // module renames it with `__name(_C, "C")`: give it back the name it had in the driver (unless the
  // class declares a static `name` of its own)
  const own = Object.getOwnPropertyDescriptor(value, 'name');
  const defaultName = own !== undefined && !own.writable && !own.enumerable && typeof own.value === 'string';
  if (defaultName && value.name !== src.name && src.name && src.name !== 'anonymous') {
    Object.defineProperty(value, 'name', { value: src.name, configurable: true });
  }
  perImporter.set(key, { value, importMeta });
  return value;
}

/** A parameter name the source does not contain anywhere, so it cannot shadow or be shadowed. */
function hiddenName(base: string, source: string): string {
  let name = base;
  for (let i = 1; source.includes(name); i++) name = `${base}${i}`;
  return name;
}

/** Replaces each `import` keyword of a dynamic import and each `import.meta` in `source`. */
export function rewriteImports(source: string): { code: string; importName: string; metaName: string } {
  const importName = hiddenName('__rayts_import', source);
  const metaName = hiddenName('__rayts_import_meta', source);
  if (!/\bimport\b/.test(source)) return { code: source, importName, metaName };

  const program = parse(`(${source}\n)`, PARSE_OPTIONS); // positions are +1 against `source`
  const edits: Array<{ start: number; end: number; text: string }> = [];
  full(program, (node) => {
    if (node.type === 'ImportExpression') {
      edits.push({ start: node.start - 1, end: node.start - 1 + 'import'.length, text: importName });
    } else if (node.type === 'MetaProperty' && (node as unknown as { meta: { name: string } }).meta.name === 'import') {
      edits.push({ start: node.start - 1, end: node.end - 1, text: metaName });
    }
  });
  edits.sort((a, b) => b.start - a.start);
  let code = source;
  for (const e of edits) code = code.slice(0, e.start) + e.text + code.slice(e.end);
  return { code, importName, metaName };
}
