/** Audit mode in the engine: the two views, and the staged policies that make the difference (auditVerdict). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { audit, cluster, pod, policy } from '../../test/builders.js';
import { auditVerdict } from './audit.js';
import { Engine, podEndpoint } from './engine.js';

const web = pod('x/web', { app: 'web' }, { ips: ['10.0.0.1'] });
const db = pod('x/db', { app: 'db' }, { ips: ['10.0.0.2'] });
const toDb = { source: podEndpoint(web), destination: podEndpoint(db), protocol: 'TCP' as const, port: 5432 };
const dbDenyAll = policy('x/db-deny', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] });
const dbFromWeb = policy('x/db-from-web', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] });

describe('audit mode in the engine', () => {
  test('a staged deny-all: allowed today, denied once it enforces, by it', () => {
    const engine = new Engine(cluster({ pods: [web, db], policies: [audit(dbDenyAll)] }));
    assert.equal(engine.hasAudit, true);
    const v = auditVerdict(engine, toDb);
    assert.deepEqual([v.today.allowed, v.today.reason, v.verdict.allowed, v.verdict.reason], [true, 'not-isolated', false, 'denied-by-ingress']);
    assert.deepEqual(v.by, [{ namespace: 'x', name: 'db-deny' }]);
    assert.equal(v.verdict.ingress.policies[0]?.mode, 'audit');
    assert.deepEqual(v.today.ingress.policies, [], 'today the staged policy does not exist');
  });

  test('a staged allow beside an enforced deny-all: denied today, allowed once it enforces, by it', () => {
    const engine = new Engine(cluster({ pods: [web, db], policies: [dbDenyAll, audit(dbFromWeb)] }));
    const v = auditVerdict(engine, toDb);
    assert.deepEqual([v.today.allowed, v.verdict.allowed], [false, true]);
    assert.deepEqual(v.by, [{ namespace: 'x', name: 'db-from-web' }]);
  });

  test('verdicts that agree name no policy; without staged policies both views are the same engine', () => {
    const stagedDenyAll = audit(policy('x/db-deny-staged', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] }));
    const staged = new Engine(cluster({ pods: [web, db], policies: [dbDenyAll, stagedDenyAll] }));
    assert.deepEqual(auditVerdict(staged, toDb).by, []);
    const plain = new Engine(cluster({ pods: [web, db], policies: [dbDenyAll] }));
    assert.equal(plain.hasAudit, false);
    assert.equal(plain.withAudit(), plain);
  });
});
