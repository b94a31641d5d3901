/**
 * A parallel data pipeline: anonymise the client IPs in a set of CSV access logs, one task per file.
 *
 * The driver writes NUM_FILES fake access logs (timestamp,ip,path,status) into a temp dir. Each
 * task reads one file with node:fs (imported inside the task), replaces the ip column, writes
 * `<name>.anon.csv` next to it and returns counts. The driver then checks every output: no IPv4
 * address at all, no original IP anywhere, every other column unchanged.
 *
 * How IPs are masked: a keyed hash, `ip-` + the first 16 hex digits of HMAC-SHA256(key, ip), with a
 * random key made for this run and passed to the tasks as an argument (never written to disk).
 *  - The same IP gets the same token in every file, so the anonymised logs still answer "how many
 *    distinct clients", "what did this client do next", and join across files.
 *  - Without the key the tokens cannot be reversed. A plain (unkeyed) hash would not do: there are
 *    only 2^32 IPv4 addresses, so hashing them all and looking the token up takes minutes.
 *  - Truncating instead (192.168.1.23 -> 192.168.x.x) keeps the network but merges every client of
 *    it into one, and on small networks a /16 can still point at a person.
 * Throw the key away after the run and the mapping is gone for good; keep it (secret) if the same
 * clients must get the same tokens in later runs.
 *
 *   npx tsc -p examples && node examples/dist/anonymize_logs.js [numFiles] [linesPerFile]
 *
 * On a multi-node cluster the tasks read and write paths on whichever node they run, so the
 * directory must be on storage every node shares (set LOGS_DIR to it); by default it is a fresh
 * temp dir that is removed at the end (KEEP_LOGS=1 keeps it).
 */
import * as ray from 'rayts';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';

const NUM_FILES = Number(process.argv[2] ?? 8);
const LINES_PER_FILE = Number(process.argv[3] ?? 2000);
const HEADER = 'timestamp,ip,path,status';
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g;

/** A small seeded PRNG, so the fake logs are the same on every run. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes the fake logs; returns their paths and every IP they contain. */
function generateLogs(dir: string): { files: string[]; ips: Set<string> } {
  const rand = mulberry32(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const octet = () => 1 + Math.floor(rand() * 254);
  // A pool of clients shared by all files: private, office and documentation (TEST-NET) ranges.
  const prefixes = ['192.168.1', '192.168.7', '10.0.3', '10.20.0', '172.16.5', '203.0.113', '198.51.100'];
  const pool = [...new Set(Array.from({ length: 250 }, () => `${pick(prefixes)}.${octet()}`))];
  const paths = ['/', '/index.html', '/login', '/logout', '/api/items', '/api/items/42', '/static/app.js', '/favicon.ico'];
  const statuses = [200, 200, 200, 200, 304, 302, 404, 500];
  const ips = new Set<string>();
  const files: string[] = [];
  let time = Date.parse('2024-05-01T00:00:00Z');
  for (let f = 0; f < NUM_FILES; f++) {
    const lines = [HEADER];
    for (let i = 0; i < LINES_PER_FILE; i++) {
      time += Math.floor(rand() * 2000);
      const ip = pick(pool);
      ips.add(ip);
      lines.push(`${new Date(time).toISOString()},${ip},${pick(paths)},${pick(statuses)}`);
    }
    const file = join(dir, `access-${String(f).padStart(3, '0')}.csv`);
    writeFileSync(file, lines.join('\n') + '\n');
    files.push(file);
  }
  return { files, ips };
}

const ownDir = !process.env.LOGS_DIR;
const dir = process.env.LOGS_DIR ?? mkdtempSync(join(tmpdir(), 'rayts-anon-logs-'));
mkdirSync(dir, { recursive: true });
const key = randomBytes(32).toString('hex');

await ray.init();
try {
  const { files, ips } = generateLogs(dir);
  console.log(`generated ${files.length} files x ${LINES_PER_FILE} lines (${ips.size} distinct client IPs) in ${dir}`);

  // The task: everything it needs comes in as arguments or is imported inside it.
  const anonymize = ray.remote(async (inputPath: string, hmacKey: string) => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const { createHmac } = await import('node:crypto');
    const ray = await import('rayts');
    const lines = (await readFile(inputPath, 'utf8')).split('\n').filter((line) => line.length > 0);
    const ipColumn = lines[0].split(',').indexOf('ip');
    if (ipColumn < 0) throw new Error(`${inputPath}: no ip column in the header "${lines[0]}"`);
    const tokens = new Map<string, string>();
    const out = [lines[0]];
    for (const line of lines.slice(1)) {
      const fields = line.split(',');
      const ip = fields[ipColumn];
      let token = tokens.get(ip);
      if (token === undefined) {
        token = 'ip-' + createHmac('sha256', hmacKey).update(ip).digest('hex').slice(0, 16);
        tokens.set(ip, token);
      }
      fields[ipColumn] = token;
      out.push(fields.join(','));
    }
    const outputPath = inputPath.replace(/\.csv$/, '.anon.csv');
    await writeFile(outputPath, out.join('\n') + '\n');
    return { inputPath, outputPath, rows: out.length - 1, distinctIps: tokens.size, nodeIp: ray.getRuntimeContext().nodeIp };
  });

  const results = await ray.get(files.map((file) => anonymize.remote(file, key)));
  for (const r of results) {
    console.log(`  ${basename(r.inputPath)} -> ${basename(r.outputPath)}: ${r.rows} rows, ${r.distinctIps} distinct IPs masked (on ${r.nodeIp})`);
  }

  // Check every output against its input, in the driver.
  const tokenOf = (ip: string) => 'ip-' + createHmac('sha256', key).update(ip).digest('hex').slice(0, 16);
  const tokens = new Set<string>();
  let rows = 0;
  for (const r of results) {
    const input = readFileSync(r.inputPath, 'utf8');
    const output = readFileSync(r.outputPath, 'utf8');
    const found = output.match(IPV4);
    if (found) throw new Error(`${r.outputPath} still contains IP addresses: ${found.slice(0, 5).join(', ')}`);
    for (const ip of ips) if (output.includes(ip)) throw new Error(`${r.outputPath} contains the original IP ${ip}`);
    const before = input.trimEnd().split('\n');
    const after = output.trimEnd().split('\n');
    if (after[0] !== HEADER || after.length !== before.length || r.rows !== LINES_PER_FILE) {
      throw new Error(`${r.outputPath}: expected a header and ${LINES_PER_FILE} rows, got ${after.length - 1} lines`);
    }
    for (let i = 1; i < before.length; i++) {
      const [time, ip, path, status] = before[i].split(',');
      const expected = `${time},${tokenOf(ip)},${path},${status}`;
      if (after[i] !== expected) throw new Error(`${r.outputPath} line ${i + 1}: expected "${expected}", got "${after[i]}"`);
      tokens.add(after[i].split(',')[1]);
      rows++;
    }
  }
  const sample = readFileSync(results[0].inputPath, 'utf8').split('\n')[1];
  const sampleOut = readFileSync(results[0].outputPath, 'utf8').split('\n')[1];
  console.log(`sample: ${sample}`);
  console.log(`    ->  ${sampleOut}`);
  console.log(`anonymized ${results.length} files, ${rows} rows: ${ips.size} distinct IPs -> ${tokens.size} distinct tokens`);
  if (tokens.size !== ips.size) throw new Error('two IPs got the same token');
  console.log('no original IP appears in any output (ok)');
} finally {
  await ray.shutdown();
  if (ownDir && !process.env.KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
}
