/**
 * Helpers that TypeScript runners put next to the code they compile, re-implemented so that a shipped
 * function or class that calls them can take them along.
 *
 * esbuild (tsx, vitest/vite, most TS runners) keeps names with `__name(fn, "f")` and lowers class
 * fields with `__publicField`; tsc lowers async functions with `__awaiter`, object rest with `__rest`,
 * private fields with `__classPrivateFieldGet/Set` and a per-field WeakMap, decorators with
 * `__decorate`. These helpers live at the top of the compiled module, outside the function, so its
 * source alone does not define them. Each definition below behaves as the compiler's own (esbuild's
 * runtime.go, tslib); a shipped source gets only the ones it uses (and what those use), declared
 * in a closure around it — see {@link withCompilerHelpers}.
 */

interface Helper {
  /** The expression the helper's name is bound to. */
  readonly definition: string;
  /** Other helpers the definition calls. */
  readonly uses: readonly string[];
}

/** Object rest (`const { a, ...rest } = o`): tsc's `__rest` and esbuild's `__objRest` are the same. */
const OBJECT_REST: Helper = {
  definition:
    'function (s, e) { var t = {}; ' +
    'for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p) && e.indexOf(p) < 0) t[p] = s[p]; ' +
    'if (s != null) for (const sym of Object.getOwnPropertySymbols(s)) ' +
    'if (e.indexOf(sym) < 0 && Object.prototype.propertyIsEnumerable.call(s, sym)) t[sym] = s[sym]; ' +
    'return t; }',
  uses: [],
};

const HELPERS: ReadonlyMap<string, Helper> = new Map<string, Helper>([
  // esbuild
  ['__defProp', { definition: 'Object.defineProperty', uses: [] }],
  ['__name', { definition: '(target, value) => __defProp(target, "name", { value, configurable: true })', uses: ['__defProp'] }],
  [
    '__defNormalProp',
    {
      definition:
        '(obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : (obj[key] = value)',
      uses: ['__defProp'],
    },
  ],
  ['__publicField', { definition: '(obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value)', uses: ['__defNormalProp'] }],
  ['__typeError', { definition: '(msg) => { throw TypeError(msg); }', uses: [] }],
  ['__accessCheck', { definition: '(obj, member, msg) => member.has(obj) || __typeError("Cannot " + msg)', uses: ['__typeError'] }],
  [
    '__privateGet',
    {
      definition: '(obj, member, getter) => (__accessCheck(obj, member, "read from private field"), getter ? getter.call(obj) : member.get(obj))',
      uses: ['__accessCheck'],
    },
  ],
  [
    '__privateAdd',
    {
      definition:
        '(obj, member, value) => member.has(obj) ? __typeError("Cannot add the same private member more than once") : member instanceof WeakSet ? member.add(obj) : member.set(obj, value)',
      uses: ['__typeError'],
    },
  ],
  [
    '__privateSet',
    {
      definition:
        '(obj, member, value, setter) => (__accessCheck(obj, member, "write to private field"), setter ? setter.call(obj, value) : member.set(obj, value), value)',
      uses: ['__accessCheck'],
    },
  ],
  ['__privateIn', { definition: '(member, obj) => Object(obj) !== obj ? __typeError(\'Cannot use the "in" operator on this value\') : member.has(obj)', uses: ['__typeError'] }],
  ['__privateMethod', { definition: '(obj, member, method) => (__accessCheck(obj, member, "access private method"), method)', uses: ['__accessCheck'] }],
  ['__getOwnPropDesc', { definition: 'Object.getOwnPropertyDescriptor', uses: [] }],
  ['__getOwnPropDescs', { definition: 'Object.getOwnPropertyDescriptors', uses: [] }],
  ['__getOwnPropSymbols', { definition: 'Object.getOwnPropertySymbols', uses: [] }],
  ['__defProps', { definition: 'Object.defineProperties', uses: [] }],
  ['__hasOwnProp', { definition: 'Object.prototype.hasOwnProperty', uses: [] }],
  ['__propIsEnum', { definition: 'Object.prototype.propertyIsEnumerable', uses: [] }],
  ['__objRest', OBJECT_REST],
  [
    '__spreadValues',
    {
      // object spread (`{ ...a, b }`, targets before ES2018)
      definition:
        '(a, b) => { for (const prop in b || (b = {})) if (__hasOwnProp.call(b, prop)) __defNormalProp(a, prop, b[prop]); ' +
        'for (const prop of __getOwnPropSymbols(b)) if (__propIsEnum.call(b, prop)) __defNormalProp(a, prop, b[prop]); ' +
        'return a; }',
      uses: ['__hasOwnProp', '__defNormalProp', '__getOwnPropSymbols', '__propIsEnum'],
    },
  ],
  ['__spreadProps', { definition: '(a, b) => __defProps(a, __getOwnPropDescs(b))', uses: ['__defProps', '__getOwnPropDescs'] }],
  [
    '__decorateClass',
    {
      // experimentalDecorators (legacy decorators): kind 0 class, 1 method/accessor, 2 field
      definition:
        '(decorators, target, key, kind) => { ' +
        'let result = kind > 1 ? void 0 : kind ? __getOwnPropDesc(target, key) : target; ' +
        'for (let i = decorators.length - 1, decorator; i >= 0; i--) ' +
        'if ((decorator = decorators[i])) result = (kind ? decorator(target, key, result) : decorator(result)) || result; ' +
        'if (kind && result) __defProp(target, key, result); ' +
        'return result; }',
      uses: ['__getOwnPropDesc', '__defProp'],
    },
  ],
  [
    '__async',
    {
      // esbuild's lowering of async functions (targets before ES2017): runs a generator to its end
      definition:
        '(self, args, generator) => new Promise((resolve, reject) => { ' +
        'const step = (method, value) => { let r; try { r = generator[method](value); } catch (e) { reject(e); return; } ' +
        'r.done ? resolve(r.value) : Promise.resolve(r.value).then((v) => step("next", v), (e) => step("throw", e)); }; ' +
        'generator = generator.apply(self, args); step("next"); })',
      uses: [],
    },
  ],
  // tsc / tslib
  [
    '__awaiter',
    {
      definition:
        'function (thisArg, _arguments, P, generator) { ' +
        'function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); } ' +
        'return new (P || (P = Promise))(function (resolve, reject) { ' +
        'function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } } ' +
        'function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } } ' +
        'function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); } ' +
        'step((generator = generator.apply(thisArg, _arguments || [])).next()); }); }',
      uses: [],
    },
  ],
  ['__rest', OBJECT_REST],
  [
    '__classPrivateFieldGet',
    {
      definition:
        'function (receiver, state, kind, f) { ' +
        'if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a getter"); ' +
        'if (typeof state === "function" ? receiver !== state || !f : !state.has(receiver)) throw new TypeError("Cannot read private member from an object whose class did not declare it"); ' +
        'return kind === "m" ? f : kind === "a" ? f.call(receiver) : f ? f.value : state.get(receiver); }',
      uses: [],
    },
  ],
  [
    '__classPrivateFieldSet',
    {
      definition:
        'function (receiver, state, value, kind, f) { ' +
        'if (kind === "m") throw new TypeError("Private method is not writable"); ' +
        'if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a setter"); ' +
        'if (typeof state === "function" ? receiver !== state || !f : !state.has(receiver)) throw new TypeError("Cannot write private member to an object whose class did not declare it"); ' +
        'return (kind === "a" ? f.call(receiver, value) : f ? (f.value = value) : state.set(receiver, value)), value; }',
      uses: [],
    },
  ],
  [
    '__classPrivateFieldIn',
    {
      definition:
        'function (state, receiver) { ' +
        'if (receiver === null || (typeof receiver !== "object" && typeof receiver !== "function")) throw new TypeError("Cannot use \'in\' operator on non-object"); ' +
        'return typeof state === "function" ? receiver === state : state.has(receiver); }',
      uses: [],
    },
  ],
  [
    '__decorate',
    {
      definition:
        'function (decorators, target, key, desc) { ' +
        'var c = arguments.length, r = c < 3 ? target : desc === null ? (desc = Object.getOwnPropertyDescriptor(target, key)) : desc, d; ' +
        'if (typeof Reflect === "object" && typeof Reflect.decorate === "function") r = Reflect.decorate(decorators, target, key, desc); ' +
        'else for (var i = decorators.length - 1; i >= 0; i--) if ((d = decorators[i])) r = (c < 3 ? d(r) : c > 3 ? d(target, key, r) : d(target, key)) || r; ' +
        'return c > 3 && r && Object.defineProperty(target, key, r), r; }',
      uses: [],
    },
  ],
]);

/** Whether `name` is a compiler helper rayts can ship along with the code that calls it. */
export function isKnownCompilerHelper(name: string): boolean {
  return HELPERS.has(name);
}

/**
 * Compilers lower the private instance fields (`#f`) of a class to a WeakMap per field, declared in
 * the module and filled in the constructor: tsc (targets before ES2022) names it `_C_f` for class `C`
 * and fills it with `_C_f.set(this, …)`; esbuild (targets before ES2022) fills it with
 * `__privateAdd(this, _f…)`. Such a free name is that store, and a fresh WeakMap per evaluation of
 * the class is what the module had (a WeakMap also serves where esbuild used a WeakSet to mark
 * instances). Private methods and static private members are defined outside the class and cannot
 * travel: their names stay free and refused.
 */
export function isPrivateFieldStore(name: string, source: string): boolean {
  if (!/^_[\w$]+$/.test(name)) return false;
  return source.includes(`${name}.set(this, `) || source.includes(`__privateAdd(this, ${name})`) || source.includes(`__privateAdd(this, ${name},`);
}

/** Names in dependency order: each helper after the helpers its definition calls. */
function ordered(names: Iterable<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of HELPERS.get(name)?.uses ?? []) add(dep);
    out.push(name);
  };
  for (const n of [...names].sort()) add(n);
  return out;
}

/**
 * An expression that evaluates `source` (itself an expression) with the given helpers and private
 * field stores declared around it. The source keeps its own text, so its line numbers shift by one.
 */
export function withCompilerHelpers(source: string, helpers: Iterable<string>, privateFieldStores: Iterable<string> = []): string {
  const decls = ordered(helpers).map((n) => `const ${n} = ${HELPERS.get(n)!.definition};`);
  for (const store of [...privateFieldStores].sort()) decls.push(`const ${store} = new WeakMap();`);
  return `(() => { ${decls.join(' ')}\nreturn (${source}\n); })()`;
}
