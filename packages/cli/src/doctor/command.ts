/** `rayts doctor`: checks this host and, through the head, every node; exit 1 on any failed check, 3 when no cluster answers. */
import { GcsClient, type Config } from '@rayts/common';
import { resolveTarget, type TargetOptions } from '../discovery.js';
import { colors, printJson } from '../output.js';
import { runChecks } from './checks/index.js';
import { doctorExitCode, doctorJson, renderDoctor } from './format.js';
import { gatherFacts } from './gather.js';

export interface DoctorOptions extends TargetOptions {
  json?: boolean;
}

export async function doctorCommand(options: DoctorOptions, config: Config): Promise<number> {
  const target = resolveTarget(options, config);
  const client = new GcsClient(target.address, { token: target.token, tls: target.tls, timeoutMs: config.gcsRpcTimeoutMs });
  try {
    const facts = await gatherFacts(client, { headAddress: target.address, tempDir: options.tempDir }, config);
    const findings = runChecks(facts);
    if (options.json) printJson(doctorJson(target.address, findings));
    else process.stdout.write(renderDoctor(target.address, findings, colors()));
    return doctorExitCode(findings);
  } finally {
    client.close();
  }
}
