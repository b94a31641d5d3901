/**
 * Hostile gRPC messages for every method of every service in the .proto files, deterministic per seed.
 * The message types are read from the loaded descriptors (@grpc/proto-loader), so a method or field
 * added later is fuzzed without a change here. Each message starts from a valid-looking request
 * (ids of the right form but unknown to the cluster, resource amounts no node has) and gets hostile
 * values in a few fields: ids of the wrong length or not hex, negative, huge, NaN and infinite
 * numbers, oversized strings, repeated fields and maps, absent sub-messages. Some messages stay
 * valid-looking (requests out of protocol order: unknown nodes, jobs, actors, groups, leases), some
 * are random bytes or empty.
 *
 * Methods whose valid request creates or ends something by design for a token holder (registering a
 * node, job or actor, creating a group, reserving bundles, running a task or a job's entrypoint,
 * writing kv, reporting a node's resources) always carry one field that must be refused (`POISON`),
 * so the fuzzer never legitimately changes the cluster it then checks.
 */
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_FILES, PROTO_LOADER_OPTIONS, PROTOCOL_VERSION } from '@rayts/common';

interface FieldDesc { name: string; label: string; type: string; typeName: string }
interface MessageDesc { name: string; field: FieldDesc[]; nestedType: MessageDesc[]; options?: { mapEntry?: boolean } | null }
interface EnumDesc { value: { name: string }[] }
type Obj = Record<string, unknown>;

export interface FuzzMethod {
  service: string;
  name: string;
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  serialize(value: object): Buffer;
  request: MessageDesc;
}

export type MessageKind = 'mutated' | 'out-of-order' | 'random-bytes' | 'empty';

export interface FuzzMessage {
  kind: MessageKind;
  /** Encoded requests: one for unary and server-streaming methods, one or more chunks for client streams. */
  frames: Buffer[];
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  private state: number;
  constructor(seed: number) { this.state = seed >>> 0; }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]!; }
  hex(chars: number): string { let s = ''; while (s.length < chars) s += this.int(16).toString(16); return s; }
  bytes(n: number): Buffer { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = this.int(256); return b; }
  word(max = 12): string { let s = ''; const n = 1 + this.int(max); while (s.length < n) s += String.fromCharCode(97 + this.int(26)); return s; }
}

const HEAD_SERVICES = ['ClusterService', 'NodeService', 'KvService', 'JobService', 'PackageService', 'PlacementGroupService', 'TaskEventService', 'ActorService'];
const RAYLET_SERVICES = ['RayletService', 'ActorHostService'];

/** Every method of the services the head and a raylet serve, from the .proto files. */
export function loadMethods(): { head: FuzzMethod[]; raylet: FuzzMethod[]; definition: protoLoader.PackageDefinition } {
  const definition = protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS);
  const methods = (services: string[]) => services.flatMap((service) => {
    const def = definition[`rayts.v1.${service}`] as unknown as Record<string, protoLoader.MethodDefinition<object, object> & { requestType: { type: MessageDesc } }>;
    if (!def) throw new Error(`service ${service} is not in the .proto files`);
    return Object.entries(def).map(([name, m]) => ({
      service, name, path: m.path, requestStream: m.requestStream, responseStream: m.responseStream,
      serialize: (value: object) => m.requestSerialize(value), request: m.requestType.type,
    }));
  });
  const declared = Object.keys(definition).filter((k) => !('format' in (definition[k] as object))).map((k) => k.replace('rayts.v1.', ''));
  const missing = declared.filter((s) => !HEAD_SERVICES.includes(s) && !RAYLET_SERVICES.includes(s));
  if (missing.length > 0) throw new Error(`services not fuzzed: ${missing.join(', ')}; add them to HEAD_SERVICES or RAYLET_SERVICES`);
  return { head: methods(HEAD_SERVICES), raylet: methods(RAYLET_SERVICES), definition };
}

/** Methods whose valid request changes the cluster by design: they always carry a field that must be refused. */
const POISON: Record<string, (m: Obj, rng: Rng) => void> = {
  RegisterNode: (m, rng) => { if (rng.chance(0.5) || !isObj(m.node)) m.protocolVersion = 99; else (m.node as Obj).nodeId = rng.hex(55); },
  UnregisterNode: (m, rng) => { m.nodeId = rng.hex(56); }, // never a real node: that stop is by design
  ReportResources: (m) => { m.resourcesAvailable = { CPU: -Infinity }; },
  RegisterActor: (m, rng) => { if (isObj(m.spec)) (m.spec as Obj).actorId = rng.hex(31); },
  CreateActor: (m, rng) => { if (isObj(m.spec)) (m.spec as Obj).actorId = rng.hex(31); },
  CreatePlacementGroup: (m, rng) => { m.placementGroupId = rng.hex(35); },
  CreatePlacementGroups: (m, rng) => { m.groups = [{ placementGroupId: rng.hex(35), strategy: 'PACK' }]; },
  RegisterJob: (m, rng) => { m.nodeId = rng.hex(57); },
  KvPut: (m) => { m.key = ''; },
  StartJobDriver: (m) => { m.submissionId = '.refused'; },
  ExecuteTask: (m, rng) => { if (isObj(m.task)) (m.task as Obj).taskId = rng.hex(55); },
  PushActorTask: (m, rng) => { if (isObj(m.task)) (m.task as Obj).taskId = rng.hex(55); },
  PrepareBundles: poisonBundles,
  CommitBundles: poisonBundles,
  ReserveBundles: poisonBundles,
};

function poisonBundles(m: Obj, rng: Rng): void {
  m.bundles = [{ placementGroupId: rng.hex(35), bundleIndex: 0, resources: { CPU: 1 } }];
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** A field and the object that holds it, for mutation. */
interface Slot { parent: Obj; key: string; field: FieldDesc; map?: MessageDesc }

export class MessageFactory {
  constructor(private readonly rng: Rng, private readonly definition: protoLoader.PackageDefinition, private readonly realNodeIds: string[]) {}

  /** The next hostile message for `method`. */
  make(method: FuzzMethod): FuzzMessage {
    const r = this.rng.next();
    if (r < 0.06) return { kind: 'random-bytes', frames: [this.rng.bytes(1 + this.rng.int(300))] };
    if (r < 0.09) return { kind: 'empty', frames: [Buffer.alloc(0)] };
    const frames = method.requestStream ? 1 + this.rng.int(3) : 1;
    const poison = POISON[method.name];
    const outOfOrder = !poison && r < 0.25;
    const out: Buffer[] = [];
    for (let i = 0; i < frames; i++) {
      const value = this.build(method.request, 0, method.name);
      if (!outOfOrder) this.mutate(value, method.request, 1 + this.rng.int(3));
      poison?.(value, this.rng);
      out.push(this.encode(method, value));
    }
    return { kind: outOfOrder ? 'out-of-order' : 'mutated', frames: out };
  }

  private encode(method: FuzzMethod, value: Obj): Buffer {
    try {
      return method.serialize(value);
    } catch {
      return method.serialize({}); // a value protobufjs itself refuses to encode (e.g. a number where a string goes)
    }
  }

  private message(typeName: string, scope?: MessageDesc): MessageDesc {
    const nested = scope?.nestedType.find((n) => n.name === typeName);
    if (nested) return nested;
    const found = this.definition[`rayts.v1.${typeName}`] as unknown as { type: MessageDesc } | undefined;
    if (!found) throw new Error(`unknown message type ${typeName}`);
    return found.type;
  }

  private enumValues(typeName: string): string[] {
    return ((this.definition[`rayts.v1.${typeName}`] as unknown as { type: EnumDesc }).type.value).map((v) => v.name);
  }

  /** A valid-looking message: well-formed ids unknown to the cluster, amounts no node has. */
  private build(desc: MessageDesc, depth: number, method: string): Obj {
    const out: Obj = {};
    for (const f of desc.field) {
      if (f.type === 'TYPE_MESSAGE') {
        const sub = this.message(f.typeName, desc);
        if (sub.options?.mapEntry) out[f.name] = this.mapValue(sub, f.name);
        else if (f.label === 'LABEL_REPEATED') out[f.name] = depth > 2 ? [] : Array.from({ length: this.rng.int(3) }, () => this.build(sub, depth + 1, method));
        else out[f.name] = depth > 3 ? null : this.build(sub, depth + 1, method);
      } else if (f.label === 'LABEL_REPEATED') {
        out[f.name] = Array.from({ length: this.rng.int(3) }, () => this.scalar(f, method));
      } else {
        out[f.name] = this.scalar(f, method);
      }
    }
    return out;
  }

  private mapValue(entry: MessageDesc, name: string): Obj {
    const value = entry.field.find((f) => f.name === 'value')!;
    if (value.type === 'TYPE_DOUBLE') return { [this.rng.pick(['CPU', 'GPU', 'memory', 'fuzz_res'])]: 1e9 }; // more than any node has
    return { [this.rng.word()]: name === 'labels' ? this.rng.word() : this.rng.word() };
  }

  private scalar(f: FieldDesc, method: string): unknown {
    const n = f.name;
    switch (f.type) {
      case 'TYPE_STRING': return this.idLike(n, method);
      case 'TYPE_BOOL': return this.rng.chance(0.5);
      case 'TYPE_BYTES': return this.rng.bytes(this.rng.int(64));
      case 'TYPE_DOUBLE': case 'TYPE_FLOAT': return this.rng.int(100);
      case 'TYPE_ENUM': return this.rng.pick(this.enumValues(f.typeName));
      default:
        if (n === 'protocolVersion') return PROTOCOL_VERSION;
        if (/Port$/.test(n)) return 1 + this.rng.int(65535);
        if (n === 'waitMs') return this.rng.int(50);
        if (n === 'maxConcurrency') return 1;
        if (n === 'minVersion') return 0;
        return this.rng.int(10);
    }
  }

  /** A string of the form its field name asks for (unknown to the cluster). */
  private idLike(name: string, method: string): string {
    const rng = this.rng;
    if (/nodeId$/i.test(name)) {
      const real = method !== 'UnregisterNode' && this.realNodeIds.length > 0 && rng.chance(0.4);
      return real ? rng.pick(this.realNodeIds) : rng.hex(56);
    }
    if (/^actorId$/.test(name)) return rng.hex(32);
    if (/placementGroupId$/.test(name)) return rng.hex(36);
    if (/(taskId|objectId|returnId)$/i.test(name)) return rng.hex(56);
    if (/jobId$/.test(name)) return rng.hex(8);
    if (name === 'clusterId') return '';
    if (/(workerId|ClientId)$/.test(name)) return rng.hex(28);
    if (name === 'submissionId') return `fuzz_${rng.hex(12)}`;
    if (name === 'kind') return rng.pick(['DEFAULT', 'SPREAD', 'NODE_AFFINITY']);
    if (name === 'strategy') return rng.pick(['PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD']);
    if (name === 'stream') return rng.pick(['stdout', 'stderr']);
    if (name === 'uri') return `gcs://_rayts_pkg_${rng.hex(64)}.tar.gz`;
    if (name === 'entrypoint') return 'true';
    if (name === 'runtimeEnvJson') return '';
    if (name === 'nodeIp') return '127.0.0.9';
    return rng.word();
  }

  /** Sets `count` fields (anywhere in the message) to hostile values. */
  private mutate(root: Obj, desc: MessageDesc, count: number): void {
    const slots: Slot[] = [];
    const walk = (obj: Obj, d: MessageDesc) => {
      for (const f of d.field) {
        const sub = f.type === 'TYPE_MESSAGE' ? this.message(f.typeName, d) : undefined;
        slots.push({ parent: obj, key: f.name, field: f, map: sub?.options?.mapEntry ? sub : undefined });
        const v = obj[f.name];
        if (sub && !sub.options?.mapEntry) {
          if (Array.isArray(v)) v.forEach((item) => isObj(item) && walk(item, sub));
          else if (isObj(v)) walk(v, sub);
        }
      }
    };
    walk(root, desc);
    for (let i = 0; i < count && slots.length > 0; i++) {
      const slot = this.rng.pick(slots);
      slot.parent[slot.key] = this.hostile(slot);
    }
  }

  private hostile(slot: Slot): unknown {
    const rng = this.rng;
    const { field } = slot;
    if (slot.map) {
      const numeric = slot.map.field.find((f) => f.name === 'value')!.type === 'TYPE_DOUBLE';
      return rng.pick<() => Obj>([
        () => ({ CPU: numeric ? rng.pick([-Infinity, Infinity, NaN, -1, -1e308, 1e308, 2 ** 64]) : 'x'.repeat(70_000) }),
        () => ({ '': 1 }),
        () => ({ 'bad name!': 1, [`${'r'.repeat(300)}`]: 1 }),
        () => Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`r${i}`, numeric ? 1 : 'v'])),
      ])();
    }
    if (field.label === 'LABEL_REPEATED') {
      const item = field.type === 'TYPE_MESSAGE' ? {} : field.type === 'TYPE_STRING' ? rng.hex(55) : -1;
      return rng.chance(0.05) ? Array.from({ length: 20_001 }, () => item) : Array.from({ length: 1 + rng.int(3) }, () => (field.type === 'TYPE_MESSAGE' ? {} : this.hostileScalar(field)));
    }
    if (field.type === 'TYPE_MESSAGE') return null;
    return this.hostileScalar(field);
  }

  private hostileScalar(field: FieldDesc): unknown {
    const rng = this.rng;
    switch (field.type) {
      case 'TYPE_STRING':
        return rng.pick([
          '', rng.hex(55), rng.hex(57), 'Z'.repeat(56), '../../etc/passwd', 'x\0y', '\uffff\ud800', 'x'.repeat(70_000),
          rng.chance(0.03) ? 'y'.repeat(2_000_000) : 'y'.repeat(300), '*a*a*a*a*a*a*a*a*a*a*a*a*b', '{"working_dir": 5}', '-1',
        ]);
      case 'TYPE_BYTES':
        return rng.chance(0.05) ? Buffer.alloc(2_000_000, 7) : rng.bytes(rng.int(2048));
      case 'TYPE_BOOL':
        return rng.chance(0.5);
      case 'TYPE_ENUM':
        return rng.pick([999, -1, 'NOT_A_VALUE']);
      case 'TYPE_DOUBLE': case 'TYPE_FLOAT':
        return rng.pick([NaN, Infinity, -Infinity, -1, -1e308, 1e308, 2 ** 53 + 1, 0.5]);
      default: // integers: encoders wrap or clamp what does not fit, which is hostile too
        return rng.pick([-1, 0, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 31), Number.MAX_SAFE_INTEGER, 1.5]);
    }
  }
}
