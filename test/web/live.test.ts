/**
 * `netpol serve` following a real kube-apiserver (etcd + kube-apiserver from src/controlplane): the
 * event stream says which object changed and how the link stands, and in real Chromium a policy created
 * in the API server removes its arrow from the graph without a reload; a network cut shows as
 * reconnecting and clears when the watch is back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { startControlPlane, type ControlPlane } from '../../src/controlplane/index.js';
import { applyCluster, createPolicy, KubeClient, loadKubeConfig, NETWORK_POLICIES, resourcePath } from '../../src/kube/index.js';
import { loadCluster } from '../../src/load/index.js';
import { liveSource, startServer, type RunningServer } from '../../src/server/index.js';
import { policy } from '../builders.js';
import { controlPlaneSkip, Relay, until } from '../kube/helpers.js';
import { chromiumMissing, launch } from './chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const noControlPlane = controlPlaneSkip();
const noChromium = chromiumMissing();
if (noControlPlane) console.log(`# skipped: serve following a live cluster ${noControlPlane}`);
else if (noChromium) console.log(`# skipped: the live page in Chromium needs ${noChromium}`);

// client -> server on 80 is allowed and drawn (server is isolated for ingress); client's egress is open.
const CLUSTER = `apiVersion: v1
kind: Namespace
metadata: {name: live}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: live, labels: {app: client}}
spec: {containers: [{name: c, image: none}]}
status: {podIP: 10.7.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: live, labels: {app: server}}
spec: {containers: [{name: c, image: none, ports: [{containerPort: 80}]}]}
status: {podIP: 10.7.0.2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-in, namespace: live}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 80}]}]
`;

/** Reads server-sent events from the server, as a list one can wait on. */
async function eventStream(url: string): Promise<{ events: { name: string; data: unknown }[]; next: (name: string, test?: (d: unknown) => boolean) => Promise<unknown>; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(`${url}api/v1/events`, { signal: abort.signal });
  const events: { name: string; data: unknown }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name && data) events.push({ name, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    next: (name, test = () => true) => until(`event ${name}`, () => events.find((e) => e.name === name && test(e.data))?.data, 20_000),
    close: () => abort.abort(),
  };
}

describe('serve following a live cluster', { skip: noControlPlane }, () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let relay: Relay;
  let dir: string;
  let server: RunningServer;

  before(async () => {
    cp = await startControlPlane();
    client = new KubeClient(await loadKubeConfig({ kubeconfig: cp.kubeconfig }));
    await applyCluster(client, loadCluster([{ file: 'live.yaml', text: CLUSTER }]).cluster);
    dir = mkdtempSync(join(tmpdir(), 'netpol-live-'));
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs'), join(dir, 'web')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    // Through a relay, so the test can cut the network between serve and the API server.
    relay = await Relay.start(cp.server);
    const viaRelay = new KubeClient(await loadKubeConfig({ kubeconfig: await relay.kubeconfig(cp, join(dir, 'kubeconfig')) }));
    server = await startServer({ source: liveSource(viaRelay, { namespace: 'live', description: 'test cluster' }), port: 0, assetsDir: join(dir, 'web'), defaultNamespace: 'live' });
  });

  after(async () => {
    await server?.close();
    await relay?.close();
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the event stream names the object that changed and the state of the link; the API answers for the new snapshot', async () => {
    const stream = await eventStream(server.url);
    try {
      assert.deepEqual(await stream.next('hello'), { version: 0, live: true, connection: { state: 'connected' }, drops: false });
      const summary = (await (await fetch(`${server.url}api/v1/cluster`)).json()) as { version: number; pods: unknown[]; policies: unknown[] };
      assert.equal(summary.version, 0);
      assert.equal(summary.pods.length, 2);

      await createPolicy(client, policy('live/extra', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ podSelector: {} }] }] }));
      assert.deepEqual(await stream.next('snapshot'), { version: 1, changes: ['NetworkPolicy live/extra created'] });
      const after = (await (await fetch(`${server.url}api/v1/cluster`)).json()) as { version: number; policies: { name: string }[] };
      assert.equal(after.version, 1);
      assert.deepEqual(after.policies.map((p) => p.name).sort(), ['extra', 'server-in']);
      await client.request('DELETE', resourcePath(NETWORK_POLICIES, 'live', 'extra'), { verb: 'delete', resource: NETWORK_POLICIES });
      assert.deepEqual(await stream.next('snapshot', (d) => (d as { version: number }).version === 2), { version: 2, changes: ['NetworkPolicy live/extra deleted'] });

      relay.cut();
      const lost = (await stream.next('connection', (d) => (d as { state: string }).state === 'reconnecting')) as { message: string };
      assert.match(lost.message, /retrying in \d+\.\d s/);
      relay.restore();
      await stream.next('connection', (d) => (d as { state: string }).state === 'connected');
    } finally {
      stream.close();
    }
  });

  describe('the page in Chromium', { skip: noChromium }, () => {
    let browser: { context: BrowserContext; close: () => Promise<void> };
    let page: Page;
    const requests: string[] = [];

    before(async () => {
      browser = await launch();
      page = await browser.context.newPage();
      page.on('request', (r) => requests.push(r.url()));
    });
    after(async () => {
      await browser?.close();
    });

    test('a policy created in the API server removes the arrow without a reload, and the page says what changed', async () => {
      await page.goto(`${server.url}#graph?port=80`);
      await page.waitForSelector('body[data-ready="true"]');
      await page.waitForSelector('#live[data-state="connected"]');
      assert.ok(await page.evaluate(`window.netpol.edgePosition('live/client', 'live/server')`), 'client -> server is drawn');
      await page.evaluate('window.__sameDocument = true');

      // client becomes isolated for egress with no rule: it reaches nothing any more.
      await createPolicy(client, policy('live/client-out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'] }));
      const line = page.locator('#changes li', { hasText: 'NetworkPolicy live/client-out created' });
      await line.waitFor();
      assert.equal(await line.getAttribute('data-effect'), '+0 −1 allowed pairs on TCP/80');
      assert.equal(await page.evaluate(`window.netpol.edgePosition('live/client', 'live/server') ?? null`), null);
      assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was not reloaded');

      // The explanation follows the cluster: client's egress is isolated by client-out.
      await page.fill('#from', 'live/client');
      await page.fill('#to', 'live/server');
      await page.click('#ask button');
      const headline = page.locator('#explain [data-verdict]').first();
      await headline.waitFor();
      assert.equal(await headline.getAttribute('data-verdict'), 'denied');
      assert.match((await page.locator('#explain').textContent()) ?? '', /client-out/);

      relay.cut();
      await page.waitForSelector('#live[data-state="cluster-lost"]');
      relay.restore();
      await page.waitForSelector('#live[data-state="connected"]', { timeout: 20_000 });
      assert.deepEqual(
        requests.filter((u) => !u.startsWith(server.url)),
        [],
      );
    });
  });
});
