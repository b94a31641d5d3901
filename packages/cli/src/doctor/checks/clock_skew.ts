/** This host's clock against the head's (the head's nowMs against the middle of the round trip). */
import type { Check, Finding } from '../types.js';

export const clockSkewCheck: Check = {
  name: 'clock skew',
  run({ clock, thresholds }): Finding[] {
    const roundTrip = clock.receivedMs - clock.sentMs;
    const skew = clock.headNowMs - (clock.sentMs + roundTrip / 2);
    // The head answered somewhere within the round trip: only the part beyond half of it is certain skew.
    const certain = Math.max(0, Math.abs(skew) - roundTrip / 2);
    const text = `this host's clock is ${Math.round(Math.abs(skew))} ms ${skew > 0 ? 'behind' : 'ahead of'} the head's (round trip ${roundTrip} ms)`;
    const status = certain > thresholds.doctorClockSkewFailMs ? 'fail' : certain > thresholds.doctorClockSkewWarnMs ? 'warn' : 'ok';
    return [{ check: 'clock skew', scope: 'this host', status, finding: text,
      fix: status === 'ok' ? '' : 'synchronise the clocks of every node (chrony or systemd-timesyncd against the same NTP servers)' }];
  },
};
