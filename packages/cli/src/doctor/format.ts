/** The doctor report: a table (status, check, where, finding) with each fix under its line, or JSON. */
import { formatTable } from '@rayts/common';
import type { ChalkInstance } from 'chalk';
import type { CheckStatus, Finding } from './types.js';

export interface DoctorSummary {
  ok: number;
  warn: number;
  fail: number;
  skip: number;
}

export function summarize(findings: Finding[]): DoctorSummary {
  const s: DoctorSummary = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const f of findings) s[f.status] += 1;
  return s;
}

/** 1 when any check failed, else 0. */
export function doctorExitCode(findings: Finding[]): number {
  return findings.some((f) => f.status === 'fail') ? 1 : 0;
}

export function renderDoctor(headAddress: string, findings: Finding[], color: ChalkInstance): string {
  const paint: Record<CheckStatus, (s: string) => string> = { ok: color.green, warn: color.yellow, fail: color.red, skip: color.dim };
  const table = formatTable(['STATUS', 'CHECK', 'WHERE', 'FINDING'], findings.map((f) => [f.status.toUpperCase(), f.check, f.scope, f.finding]));
  const lines = table.split('\n');
  const out: string[] = [`rayts doctor: cluster at ${headAddress}`, '', lines[0]!];
  findings.forEach((f, i) => {
    const line = lines[i + 1]!;
    out.push(paint[f.status](line.slice(0, f.status.length)) + line.slice(f.status.length));
    if (f.fix && f.status !== 'ok') out.push(`      fix: ${f.fix}`);
  });
  const s = summarize(findings);
  out.push('', `${s.ok} ok, ${s.warn} warnings, ${s.fail} failed, ${s.skip} skipped`);
  return out.join('\n') + '\n';
}

export function doctorJson(headAddress: string, findings: Finding[]): unknown {
  return { address: headAddress, summary: summarize(findings), checks: findings };
}
