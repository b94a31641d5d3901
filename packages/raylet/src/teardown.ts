/**
 * How the raylet stops: each part, once built, adds the step that closes it; stopping runs the steps
 * in the reverse order, so a part is closed before the parts it uses. A step that fails is logged
 * and the others still run. Built before every part, so a part that must end the raylet on its own
 * (the head declared the node dead) can be given it.
 */
import type { Logger } from '@rayts/common';

/** Why the raylet stops, and whether it says goodbye (to the head) rather than just going. */
export interface StopRequest {
  reason: string;
  graceful: boolean;
}

export type TeardownStep = (stop: StopRequest) => void | Promise<void>;

export class Teardown {
  private readonly steps: { name: string; run: TeardownStep }[] = [];
  private running?: Promise<void>;

  constructor(private readonly logger: Logger) {}

  add(name: string, run: TeardownStep): void {
    this.steps.push({ name, run });
  }

  /** Runs the steps once; a second call waits for the first run. */
  run(reason: string, graceful: boolean): Promise<void> {
    this.running ??= this.runSteps({ reason, graceful });
    return this.running;
  }

  private async runSteps(stop: StopRequest): Promise<void> {
    this.logger.info('raylet stopping', { reason: stop.reason });
    for (const step of [...this.steps].reverse()) {
      try {
        await step.run(stop);
      } catch (err) {
        this.logger.warn(`could not stop the ${step.name}`, { err });
      }
    }
  }
}
