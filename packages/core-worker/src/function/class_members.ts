/**
 * Members a class has that its source does not define. Only the source of a class travels, so a
 * static property or prototype method assigned after the class (by the program, or by a compiler
 * lowering static fields for a target before ES2022: tsc's `Counter.label = …`, esbuild's
 * `__publicField(_Counter, "label", …)`) would be silently missing in the worker.
 */
import type { Node as AcornNode } from 'acorn';
import { full } from 'acorn-walk';
import type { EsNode } from './scope.js';

/** Properties every class (or its prototype) has without declaring them. */
const BUILT_IN_STATIC = new Set(['length', 'name', 'prototype']);

function keyName(member: EsNode): string | undefined {
  if (member.computed) return undefined;
  if (member.key.type === 'Identifier') return member.key.name as string;
  if (member.key.type === 'Literal') return String(member.key.value);
  return undefined; // PrivateIdentifier: not a property
}

/** `this.x = …` and `ClassName.x = …` in a static block: static properties its source defines. */
function assignedInStaticBlock(block: EsNode, className: string | undefined): string[] {
  const names: string[] = [];
  full(block as unknown as AcornNode, (node) => {
    const left = node.type === 'AssignmentExpression' ? (node as unknown as EsNode).left : undefined;
    if (left?.type !== 'MemberExpression' || left.computed || left.property.type !== 'Identifier') return;
    const obj = left.object as EsNode;
    if (obj.type === 'ThisExpression' || (obj.type === 'Identifier' && obj.name === className)) names.push(left.property.name as string);
  });
  return names;
}

/**
 * The own static and prototype property names of `target` that the class expression `cls` (its
 * parsed source) does not declare. Empty when the class has computed member keys, whose names the
 * source does not tell.
 */
export function membersSetOutside(target: Function, cls: EsNode): { statics: string[]; methods: string[] } {
  const statics = new Set<string>();
  const methods = new Set<string>(['constructor']);
  const className = cls.id ? (cls.id.name as string) : undefined;
  for (const member of cls.body.body as EsNode[]) {
    if (member.type === 'StaticBlock') {
      for (const n of assignedInStaticBlock(member, className)) statics.add(n);
      continue;
    }
    if (member.type !== 'MethodDefinition' && member.type !== 'PropertyDefinition') continue;
    if (member.computed) return { statics: [], methods: [] };
    const name = keyName(member);
    if (name === undefined) continue;
    if (member.static) statics.add(name);
    else if (member.type === 'MethodDefinition') methods.add(name);
  }
  const proto: unknown = target.prototype;
  return {
    statics: Object.getOwnPropertyNames(target).filter((n) => !BUILT_IN_STATIC.has(n) && !statics.has(n)),
    methods:
      proto && typeof proto === 'object' ? Object.getOwnPropertyNames(proto).filter((n) => !methods.has(n)) : [],
  };
}
