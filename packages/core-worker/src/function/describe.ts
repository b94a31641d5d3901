/**
 * The driver side of shipping code by value: turn a function or class into its source, check that
 * the source is self-contained, and content-hash it.
 */
import { createHash } from 'node:crypto';
import { parse, type Node as AcornNode, type Options } from 'acorn';
import { full } from 'acorn-walk';
import { ClosureError, RemoteSourceError } from '../errors.js';
import type { RemoteFunctionDescriptor, RemoteKind } from './descriptor.js';
import { COMMONJS_ONLY, WORKER_GLOBALS, looksLikeCompilerHelper } from './globals.js';
import { isViteFsId, specifierForViteId } from './vite_specifiers.js';
import { membersSetOutside } from './class_members.js';
import { isKnownCompilerHelper, isPrivateFieldStore, withCompilerHelpers } from './compiler_helpers.js';
import { findFreeReferences, type EsNode, type FreeReference } from './scope.js';

export type { RemoteKind };

/** Parser options for shipped code: ES modules are strict, and so is compiled remote code. */
export const PARSE_OPTIONS: Options = {
  ecmaVersion: 'latest',
  sourceType: 'module',
  allowAwaitOutsideFunction: false,
  locations: false,
};

export function hashRemoteSource(kind: RemoteKind, source: string): string {
  return createHash('sha256').update(kind).update('\n').update(source).digest('hex');
}

/** Counters for tests and diagnostics. */
export const describeStats = { parses: 0 };

interface Analysed {
  kind: RemoteKind;
  name: string;
  source: string;
  /** Free variables that a worker does not provide, with every use. */
  free: Map<string, FreeReference[]>;
}

const cache = new WeakMap<Function, Analysed>();

/**
 * Describes `target` for shipping by source. Throws {@link RemoteSourceError} for native or bound
 * functions and sources that do not parse, {@link ClosureError} when the code uses variables from
 * outside itself. The analysis is cached per function object, so calling this on every `.remote()`
 * costs a WeakMap lookup.
 *
 * `kind` defaults to 'class' for class syntax and 'function' otherwise.
 */
export function describeRemote(target: Function, kind?: RemoteKind): RemoteFunctionDescriptor {
  if (typeof target !== 'function') {
    throw new RemoteSourceError(`rayts can only ship functions and classes, got ${typeof target}`);
  }
  let analysed = cache.get(target);
  if (!analysed) {
    analysed = analyse(target);
    cache.set(target, analysed);
  }
  const finalKind = kind ?? analysed.kind;
  const label = `remote ${finalKind} '${analysed.name}'`;
  if (finalKind === 'function' && analysed.kind === 'class') {
    throw new RemoteSourceError(`the ${label} is a class: classes are constructed, not called (ship it with kind 'class')`);
  }
  if (finalKind === 'class' && analysed.kind !== 'class' && !isConstructible(target)) {
    throw new RemoteSourceError(`the ${label} cannot be constructed: a remote class must be a class (or a plain function constructor)`);
  }
  if (analysed.free.size > 0) throw closureError(finalKind, analysed.name, analysed.free);
  return { kind: finalKind, name: analysed.name, source: analysed.source, hash: hashRemoteSource(finalKind, analysed.source) };
}

function isConstructible(f: Function): boolean {
  try {
    Reflect.construct(String, [], f); // only checks f's [[Construct]]; runs nothing of f
    return true;
  } catch {
    return false;
  }
}

const NATIVE = /\{\s*\[native code\]\s*\}\s*$/;

function analyse(target: Function): Analysed {
  const text = Function.prototype.toString.call(target); // not target.toString: a class may override it
  const ownName = typeof target.name === 'string' && target.name ? target.name : 'anonymous';
  if (NATIVE.test(text) || ownName.startsWith('bound ')) {
    throw new RemoteSourceError(
      `cannot ship a native or bound function ('${ownName}'): rayts ships functions by source, and this one has none. ` +
        'Wrap it in a function of your own, e.g. (...args) => Math.max(...args), and pass bound values as arguments.',
    );
  }
  const { source, program, kind } = normalise(text, ownName);
  if (kind === 'class') checkMembersInSource(target, program, ownName);
  const resolved = resolveFree(source, program);
  const { source: finalSource, free } = takeHelpersAlong(resolved.source, resolved.free);
  return { kind, name: ownName, source: finalSource, free };
}

/** Refuses a class whose static properties or prototype methods were set outside its source. */
function checkMembersInSource(target: Function, program: EsNode, name: string): void {
  const cls = (program.body[0] as EsNode).expression as EsNode;
  const { statics, methods } = membersSetOutside(target, cls);
  if (statics.length === 0 && methods.length === 0) return;
  const what = [
    statics.length ? `static ${statics.length === 1 ? 'property' : 'properties'} ${quoteList(statics)}` : '',
    methods.length ? `prototype ${methods.length === 1 ? 'property' : 'properties'} ${quoteList(methods)}` : '',
  ].filter(Boolean).join(' and ');
  throw new RemoteSourceError(
    `the remote class '${name}' has the ${what}, set outside the class: rayts ships a class by its source, so ${statics.length + methods.length === 1 ? 'it' : 'they'} would be missing in the worker. ` +
      'Declare them inside the class (static fields and methods); if they are declared there, your compiler moved them out ' +
      '(static fields with a target before ES2022): compile with "target": "ES2022" or newer (esbuild, tsx: node20 or esnext).',
  );
}

/**
 * Ships the compiler helpers the source calls (esbuild's `__name`, tsc's `__awaiter`, …) and the
 * WeakMaps of a lowered class's private fields, declared around it; what remains free
 * is a real outer variable.
 */
function takeHelpersAlong(
  source: string,
  free: Map<string, FreeReference[]>,
): { source: string; free: Map<string, FreeReference[]> } {
  const helpers: string[] = [];
  const stores: string[] = [];
  const rest = new Map<string, FreeReference[]>();
  for (const [name, uses] of free) {
    if (isKnownCompilerHelper(name)) helpers.push(name);
    else if (isPrivateFieldStore(name, source)) stores.push(name);
    else rest.set(name, uses);
  }
  if (helpers.length === 0 && stores.length === 0) return { source, free: rest };
  return { source: withCompilerHelpers(source, helpers, stores), free: rest };
}

function parseProgram(code: string): EsNode {
  describeStats.parses++;
  return parse(code, PARSE_OPTIONS) as unknown as EsNode;
}

/** The single expression of `(code)`, if `code` parses as exactly one expression. */
function parseAsExpression(code: string): { program: EsNode; expr: EsNode } | null {
  let program: EsNode;
  try {
    program = parseProgram(`(${code}\n)`);
  } catch {
    return null;
  }
  const stmt = program.body.length === 1 ? (program.body[0] as EsNode) : null;
  if (!stmt || stmt.type !== 'ExpressionStatement') return null;
  // the whole of `code` must be this one expression (rules out `a(), b` style surprises)
  if (stmt.expression.start !== 1 || stmt.expression.end !== 1 + code.length) return null;
  return { program, expr: stmt.expression };
}

const FUNCTION_TYPES = new Set(['ArrowFunctionExpression', 'FunctionExpression', 'ClassExpression']);

/**
 * Turns the text of `Function.prototype.toString` into an expression evaluating to the function:
 * functions, arrows and classes are expressions already; method shorthand (`f(x) { … }`,
 * `async *g() {}`, `get x() {}`) becomes a property read of a one-method object literal, which
 * keeps its exact semantics (not constructible, `super` allowed, same name).
 */
function normalise(text: string, name: string): { source: string; program: EsNode; kind: RemoteKind } {
  const asExpr = parseAsExpression(text);
  if (asExpr && FUNCTION_TYPES.has(asExpr.expr.type)) {
    return { source: text, program: asExpr.program, kind: asExpr.expr.type === 'ClassExpression' ? 'class' : 'function' };
  }
  // method shorthand: parse `({ <text> })`
  let program: EsNode | null = null;
  let parseError: unknown;
  try {
    program = parseProgram(`({${text}\n})`);
  } catch (err) {
    parseError = err;
  }
  const obj = program?.body.length === 1 ? (program.body[0] as EsNode).expression : undefined;
  const prop = obj?.type === 'ObjectExpression' && obj.properties.length === 1 ? (obj.properties[0] as EsNode) : undefined;
  if (!prop || prop.type !== 'Property' || !(prop.method || prop.kind !== 'init') || prop.start !== 2 || prop.end !== 2 + text.length) {
    const why = parseError instanceof Error ? `: ${parseError.message}` : '';
    throw new RemoteSourceError(
      `cannot ship '${name}': its source does not parse as a strict-mode function, class or method${why}`,
    );
  }
  const literal = `({${text}\n})`;
  let source: string;
  if (prop.kind === 'init' && !prop.computed && prop.key.type === 'Identifier') {
    source = `${literal}.${prop.key.name}`;
  } else if (prop.kind === 'init' && !prop.computed && prop.key.type === 'Literal') {
    source = `${literal}[${JSON.stringify(String(prop.key.value))}]`;
  } else {
    // getters, setters and computed keys: take the one own property's function
    source =
      `((o) => { const d = Object.getOwnPropertyDescriptor(o, Reflect.ownKeys(o)[0]); ` +
      `return d.get ?? d.set ?? d.value; })(${literal})`;
  }
  const reparsed = parseAsExpression(source);
  if (!reparsed) throw new RemoteSourceError(`cannot ship '${name}': its method source could not be rewritten`);
  return { source, program: reparsed.program, kind: 'function' };
}

/**
 * Rewrites of `import(x)` and `import.meta`, undone so that shipped code works anywhere: Vite/Vitest's,
 * and rayts's own (a function defined inside a task was compiled from rewritten source, see compile.ts).
 */
const VITE_DYNAMIC_IMPORT = '__vite_ssr_dynamic_import__';
const VITE_IMPORT_META = '__vite_ssr_import_meta__';

function rewrittenImport(name: string): 'import' | 'import.meta' | undefined {
  if (name === VITE_DYNAMIC_IMPORT || /^__rayts_import\d*$/.test(name)) return 'import';
  if (name === VITE_IMPORT_META || /^__rayts_import_meta\d*$/.test(name)) return 'import.meta';
  return undefined;
}

/**
 * Finds the free variables a worker does not provide. Code transformed by Vite (as in a Vitest test
 * file) has `import(x)` and `import.meta` renamed to module-wrapper variables; when those are free
 * we put the originals back (the expression source is offset by the `(` parseAsExpression adds).
 */
function resolveFree(source: string, program: EsNode): { source: string; free: Map<string, FreeReference[]> } {
  let refs = findFreeReferences(program).filter((r) => !WORKER_GLOBALS.has(r.name));
  const vite = refs.filter((r) => rewrittenImport(r.name) !== undefined);
  if (vite.length > 0) {
    let out = source;
    for (const r of [...vite].sort((a, b) => b.node.start - a.node.start)) {
      const start = r.node.start - 1;
      const end = r.node.end - 1;
      out = out.slice(0, start) + rewrittenImport(r.name)! + out.slice(end);
    }
    source = restoreViteSpecifiers(out);
    const reparsed = parseAsExpression(source);
    if (!reparsed) throw new RemoteSourceError('cannot undo the Vite transform of a remote function');
    refs = findFreeReferences(reparsed.program).filter((r) => !WORKER_GLOBALS.has(r.name));
  }
  const free = new Map<string, FreeReference[]>();
  for (const r of refs) {
    const uses = free.get(r.name);
    if (uses) uses.push(r);
    else free.set(r.name, [r]);
  }
  return { source, free };
}

/** `import('/@fs/…')` (a specifier Vite resolved) back to the package specifier; see vite_specifiers.ts. */
function restoreViteSpecifiers(source: string): string {
  if (!source.includes('/@fs/')) return source;
  const parsed = parseAsExpression(source);
  if (!parsed) throw new RemoteSourceError('cannot undo the Vite transform of a remote function');
  const edits: Array<{ start: number; end: number; text: string }> = [];
  full(parsed.program as unknown as AcornNode, (node) => {
    const src = node.type === 'ImportExpression' ? (node as unknown as EsNode).source : undefined;
    if (src?.type === 'Literal' && typeof src.value === 'string' && isViteFsId(src.value)) {
      edits.push({ start: src.start - 1, end: src.end - 1, text: JSON.stringify(specifierForViteId(src.value)) });
    }
  });
  let out = source;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

function quoteList(names: string[]): string {
  const q = names.map((n) => `'${n}'`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}

function closureError(kind: RemoteKind, name: string, free: Map<string, FreeReference[]>): ClosureError {
  const names = [...free.keys()];
  const what = `the remote ${kind} '${name}'`;
  const inside = kind === 'class' ? 'inside the class' : 'inside the function';
  const plain: string[] = [];
  const helpers: string[] = [];
  const notes: string[] = [];
  for (const [n, uses] of free) {
    const cjs = COMMONJS_ONLY.get(n);
    if (cjs) {
      notes.push(`'${n}' is a CommonJS module variable, which workers (ES modules) do not have: ${cjs}.`);
    } else if (/^__vite_ssr_import_\d+__$/.test(n)) {
      const props = [...new Set(uses.map((u) => u.memberProperty).filter((p): p is string => !!p))];
      const shown = props.length ? quoteList(props) : `'${n}'`;
      notes.push(
        `${shown} ${props.length > 1 ? 'are' : 'is'} imported at the top of the file (Vite/Vitest renamed the import to '${n}'); ` +
          `imports do not travel either: use \`await import('…')\` ${inside}.`,
      );
    } else if (n === 'arguments') {
      notes.push(`'arguments' in an arrow function is the enclosing function's: use a rest parameter (...args) instead.`);
    } else if (looksLikeCompilerHelper(n)) {
      helpers.push(n);
    } else {
      plain.push(n);
    }
  }
  if (helpers.length > 0) {
    notes.push(
      `${quoteList(helpers)} ${helpers.length === 1 ? 'looks like a helper' : 'look like helpers'} that a compiler inserted ` +
        `(TypeScript, Babel or esbuild downlevelling), which ${helpers.length === 1 ? 'lives' : 'live'} in the enclosing module, ` +
        `not in the ${kind} (rayts takes the common ones, such as esbuild's __name and tsc's __awaiter, along, but not ${helpers.length === 1 ? 'this one' : 'these'}): ` +
        `compile with "target": "ES2022" or newer (esbuild, tsx: node20 or esnext) so that its source is self-contained.`,
    );
  }
  let message = `${what} uses the outer ${names.length === 1 ? 'variable' : 'variables'} ${quoteList(names)}: ` +
    `rayts ships ${kind === 'class' ? 'classes' : 'functions'} by source to other processes, so outer variables do not travel with it.`;
  if (plain.length === 1) {
    message += ` Pass '${plain[0]}' as an argument${kind === 'class' ? ' (to the constructor or a method)' : ''}, or define it ${inside}`;
  } else if (plain.length > 1) {
    message += ` Pass ${quoteList(plain)} as arguments${kind === 'class' ? ' (to the constructor or a method)' : ''}, or define them ${inside}`;
  }
  if (plain.length > 0) message += " (imports: use `await import('…')` inside it).";
  if (notes.length) message += ' ' + notes.join(' ');
  return new ClosureError(message, name, names);
}
