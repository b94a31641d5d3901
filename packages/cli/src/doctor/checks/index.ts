/** The table of doctor checks, in the order the report lists them. */
import type { Check, DoctorFacts, Finding } from '../types.js';
import { versionsCheck } from './versions.js';
import { clockSkewCheck } from './clock_skew.js';
import { portsCheck } from './ports.js';
import { lastSeenCheck } from './last_seen.js';
import { shmCheck } from './shm.js';
import { hugePagesCheck } from './huge_pages.js';
import { openFilesCheck } from './open_files.js';
import { spillDiskCheck } from './spill_disk.js';
import { tokenFileCheck } from './token_file.js';
import { systemdCheck } from './systemd.js';

export const CHECKS: readonly Check[] = [
  versionsCheck, clockSkewCheck, portsCheck, lastSeenCheck, shmCheck, hugePagesCheck, openFilesCheck, spillDiskCheck, tokenFileCheck, systemdCheck,
];

export function runChecks(facts: DoctorFacts, checks: readonly Check[] = CHECKS): Finding[] {
  return checks.flatMap((c) => c.run(facts));
}
