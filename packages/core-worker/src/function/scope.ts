/**
 * Free-variable analysis of a parsed function or class: which identifiers it reads or writes that
 * it does not declare itself. Those are the variables a closure would capture, and they do not
 * travel when the source is shipped to another process.
 *
 * Scoping follows strict-mode ES2024: `var` and function parameters belong to the nearest function,
 * `let`/`const`/`class` and function declarations to their block, a named function or class
 * expression sees its own name, catch parameters and `for (let …)` bindings get their own scope.
 * Declarations are collected during one walk and references resolved after it, so hoisting and
 * use-before-declaration (TDZ) both resolve like the engine does.
 */

/** An ESTree node as acorn produces it. */
export interface EsNode {
  type: string;
  start: number;
  end: number;
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One use of a name that the analysed code does not declare. */
export interface FreeReference {
  name: string;
  /** The Identifier node. */
  node: EsNode;
  /** `x.prop` (non-computed) when the reference is the object of a member access. */
  memberProperty?: string;
}

class Scope {
  readonly names = new Set<string>();
  constructor(
    readonly parent: Scope | null,
    /** Whether `var` declarations land here (function bodies, static blocks, the top). */
    readonly isFunction: boolean,
  ) {}

  varScope(): Scope {
    let s: Scope = this;
    while (!s.isFunction && s.parent) s = s.parent;
    return s;
  }

  has(name: string): boolean {
    for (let s: Scope | null = this; s; s = s.parent) if (s.names.has(name)) return true;
    return false;
  }
}

const SKIP_KEYS = new Set(['type', 'start', 'end', 'loc', 'range', 'raw', 'value', 'regex', 'bigint']);

function isNode(v: unknown): v is EsNode {
  return typeof v === 'object' && v !== null && typeof (v as EsNode).type === 'string';
}

/**
 * The references in `root` (usually a Program) to names it does not declare, in source order.
 * `arguments` counts as free when it is not inside a non-arrow function of `root`.
 */
export function findFreeReferences(root: EsNode): FreeReference[] {
  const refs: Array<{ ref: FreeReference; scope: Scope }> = [];
  const top = new Scope(null, true);

  const reference = (node: EsNode, scope: Scope, memberProperty?: string) => {
    refs.push({ ref: { name: node.name as string, node, memberProperty }, scope });
  };

  const visitAll = (nodes: Array<EsNode | null> | undefined, scope: Scope) => {
    if (nodes) for (const n of nodes) if (n) visit(n, scope);
  };

  /** Visits the children of a node we have no special rule for. */
  const visitChildren = (node: EsNode, scope: Scope) => {
    for (const key of Object.keys(node)) {
      if (SKIP_KEYS.has(key)) continue;
      const v = node[key];
      if (Array.isArray(v)) {
        for (const item of v) if (isNode(item)) visit(item, scope);
      } else if (isNode(v)) {
        visit(v, scope);
      }
    }
  };

  /** Binds the names in a declaration pattern in `target`; defaults and computed keys run in `scope`. */
  const declare = (pattern: EsNode | null, target: Scope, scope: Scope) => {
    if (!pattern) return;
    switch (pattern.type) {
      case 'Identifier':
        target.names.add(pattern.name);
        return;
      case 'ObjectPattern':
        for (const p of pattern.properties as EsNode[]) {
          if (p.type === 'RestElement') {
            declare(p.argument, target, scope);
          } else {
            if (p.computed) visit(p.key, scope);
            declare(p.value, target, scope);
          }
        }
        return;
      case 'ArrayPattern':
        for (const e of pattern.elements as Array<EsNode | null>) declare(e, target, scope);
        return;
      case 'RestElement':
        declare(pattern.argument, target, scope);
        return;
      case 'AssignmentPattern':
        declare(pattern.left, target, scope);
        visit(pattern.right, scope);
        return;
      default:
        // not a binding pattern (cannot happen in valid code); treat it as an expression
        visit(pattern, scope);
    }
  };

  /** An assignment target (`x = …`, `[a, b] = …`, `for (x of …)`): names in it are references. */
  const assignTarget = (pattern: EsNode | null, scope: Scope) => {
    if (!pattern) return;
    switch (pattern.type) {
      case 'Identifier':
        reference(pattern, scope);
        return;
      case 'ObjectPattern':
        for (const p of pattern.properties as EsNode[]) {
          if (p.type === 'RestElement') {
            assignTarget(p.argument, scope);
          } else {
            if (p.computed) visit(p.key, scope);
            assignTarget(p.value, scope);
          }
        }
        return;
      case 'ArrayPattern':
        for (const e of pattern.elements as Array<EsNode | null>) assignTarget(e, scope);
        return;
      case 'RestElement':
        assignTarget(pattern.argument, scope);
        return;
      case 'AssignmentPattern':
        assignTarget(pattern.left, scope);
        visit(pattern.right, scope);
        return;
      default:
        visit(pattern, scope); // MemberExpression, parenthesised targets
    }
  };

  const declareVariables = (decl: EsNode, scope: Scope) => {
    const target = decl.kind === 'var' ? scope.varScope() : scope;
    for (const d of decl.declarations as EsNode[]) {
      declare(d.id, target, scope);
      if (d.init) visit(d.init, scope);
    }
  };

  /** Params and body of any function; `outer` already holds a named function expression's own name. */
  const visitFunction = (fn: EsNode, outer: Scope) => {
    const scope = new Scope(outer, true);
    if (fn.type !== 'ArrowFunctionExpression') scope.names.add('arguments');
    for (const p of fn.params as EsNode[]) declare(p, scope, scope);
    const body = fn.body as EsNode;
    if (body.type === 'BlockStatement') visitAll(body.body, scope);
    else visit(body, scope);
  };

  const visitClass = (cls: EsNode, outer: Scope) => {
    const scope = new Scope(outer, false);
    if (cls.id) scope.names.add(cls.id.name);
    if (cls.superClass) visit(cls.superClass, scope);
    for (const el of cls.body.body as EsNode[]) {
      switch (el.type) {
        case 'MethodDefinition':
          if (el.computed) visit(el.key, scope);
          visitFunction(el.value, scope);
          break;
        case 'PropertyDefinition':
          if (el.computed) visit(el.key, scope);
          // an initializer runs like a method body: its `var`s (in arrow bodies) stay inside
          if (el.value) visit(el.value, new Scope(scope, true));
          break;
        case 'StaticBlock':
          visitAll(el.body, new Scope(scope, true));
          break;
        default:
          visitChildren(el, scope);
      }
    }
  };

  function visit(node: EsNode, scope: Scope): void {
    switch (node.type) {
      case 'Identifier':
        reference(node, scope);
        return;
      case 'PrivateIdentifier':
      case 'ThisExpression':
      case 'Super':
      case 'MetaProperty': // new.target, import.meta
      case 'Literal':
      case 'BreakStatement': // labels are not variables
      case 'ContinueStatement':
        return;
      case 'LabeledStatement':
        visit(node.body, scope);
        return;

      case 'FunctionDeclaration':
        if (node.id) scope.names.add(node.id.name);
        visitFunction(node, scope);
        return;
      case 'FunctionExpression': {
        if (!node.id) return visitFunction(node, scope);
        const own = new Scope(scope, false);
        own.names.add(node.id.name);
        return visitFunction(node, own);
      }
      case 'ArrowFunctionExpression':
        visitFunction(node, scope);
        return;
      case 'ClassDeclaration':
        if (node.id) scope.names.add(node.id.name);
        visitClass(node, scope);
        return;
      case 'ClassExpression':
        visitClass(node, scope);
        return;

      case 'VariableDeclaration':
        declareVariables(node, scope);
        return;
      case 'BlockStatement':
        visitAll(node.body, new Scope(scope, false));
        return;
      case 'StaticBlock':
        visitAll(node.body, new Scope(scope, true));
        return;
      case 'ForStatement': {
        const loop = new Scope(scope, false);
        if (node.init) visit(node.init, loop);
        if (node.test) visit(node.test, loop);
        if (node.update) visit(node.update, loop);
        visit(node.body, loop);
        return;
      }
      case 'ForInStatement':
      case 'ForOfStatement': {
        const loop = new Scope(scope, false);
        if (node.left.type === 'VariableDeclaration') declareVariables(node.left, loop);
        else assignTarget(node.left, loop);
        visit(node.right, loop);
        visit(node.body, loop);
        return;
      }
      case 'CatchClause': {
        const own = new Scope(scope, false);
        if (node.param) declare(node.param, own, own);
        visit(node.body, own);
        return;
      }
      case 'SwitchStatement': {
        visit(node.discriminant, scope);
        const cases = new Scope(scope, false);
        for (const c of node.cases as EsNode[]) {
          if (c.test) visit(c.test, cases);
          visitAll(c.consequent, cases);
        }
        return;
      }

      case 'MemberExpression':
        if (node.object.type === 'Identifier') {
          reference(node.object, scope, node.computed ? undefined : (node.property.name as string));
        } else {
          visit(node.object, scope);
        }
        if (node.computed) visit(node.property, scope);
        return;
      case 'Property': // in an ObjectExpression; patterns are handled by declare/assignTarget
        if (node.computed) visit(node.key, scope);
        visit(node.value, scope);
        return;
      case 'MethodDefinition':
      case 'PropertyDefinition':
        // only reachable through visitChildren of a class body; visitClass handles both
        if (node.computed) visit(node.key, scope);
        if (node.value) visit(node.value, scope);
        return;
      case 'AssignmentExpression':
        assignTarget(node.left, scope);
        visit(node.right, scope);
        return;
      case 'ImportExpression':
        visit(node.source, scope);
        if (node.options) visit(node.options, scope);
        return;
      case 'ExportSpecifier':
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
        return; // module declarations never occur inside a function; nothing to resolve
      default:
        visitChildren(node, scope);
    }
  }

  visit(root, top);

  const free: FreeReference[] = [];
  for (const { ref, scope } of refs) if (!scope.has(ref.name)) free.push(ref);
  return free;
}
