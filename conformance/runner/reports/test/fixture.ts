/** A small run report with every status and the texts that break naive XML and HTML writers. */
import type { CaseResult, RunReport } from '../../types.ts';
import { countStatuses } from '../../types.ts';

const TRACEBACK = 'Traceback (most recent call last):\n  File "driver.py", line 12, in <module>\n    raise KeyError("uri")\nKeyError: \'uri\'\n';

export const RESULTS: readonly CaseResult[] = [
  { caseId: 'detect.sev-es', area: 'detect', title: 'SEV-ES detection', profile: 'milan-7003-es8', status: 'pass', durationMs: 3.2 },
  { caseId: 'detect.sev-es', area: 'detect', title: 'SEV-ES detection', profile: 'intel-xeon', status: 'not-applicable', reason: 'host has no SEV <at all> & "none"', durationMs: 0 },
  { caseId: 'xml.launch-security', area: 'xml', title: '<launchSecurity> present', profile: 'milan-7003-es8', status: 'fail', reason: "launchSecurity is missing\nsecond line with <tags> & 'quotes'\u0001", durationMs: 12.5, driverLog: 'building xml\n' },
  { caseId: 'xml.launch-security', area: 'xml', title: '<launchSecurity> present', profile: 'intel-xeon', status: 'error', reason: `driver exited with code 1 during buildGuestXml\n--- driver stderr (tail) ---\n${TRACEBACK}`, durationMs: 40, driverLog: TRACEBACK },
  { caseId: 'slots.sev-exhaustion', area: 'slots', title: 'Exactly maxGuests', profile: 'milan-7003-es8', status: 'not-implemented', reason: 'driver does not implement spawn', durationMs: 0 },
  { caseId: 'slots.sev-exhaustion', area: 'slots', title: 'Exactly maxGuests', profile: 'intel-xeon', status: 'not-applicable', reason: 'host has no SEV', durationMs: 0 },
];

export const REPORT: RunReport = {
  driver: { name: 'toy <driver> & "co"', version: '1.0', ops: ['reportHost', 'buildGuestXml'], models: ['amd-sev'] },
  target: 'fake',
  profiles: ['milan-7003-es8', 'intel-xeon'],
  results: RESULTS,
  wallMs: 1234,
  counts: countStatuses(RESULTS),
};

export { TRACEBACK };
