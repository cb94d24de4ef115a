/**
 * Command-line manners: per-command help that lists every flag and whose examples run, flag errors in
 * kubectl's words, completion scripts, colour, -o yaml, and kubectl's reference forms.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { GLOBAL_OPTIONS } from '../src/cli/args.js';
import { AGENT_OPTIONS } from '../src/cli/agent.js';
import { CHECK_OPTIONS } from '../src/cli/check.js';
import { LAB_OPTIONS } from '../src/cli/lab.js';
import { MATRIX_OPTIONS } from '../src/cli/matrix.js';
import { colourVerdicts, wantsColour } from '../src/cli/render/colour.js';
import { netpol } from './netpol.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const OPTIONS: Record<string, Record<string, unknown>> = { validate: {}, check: CHECK_OPTIONS, matrix: MATRIX_OPTIONS, agent: AGENT_OPTIONS, lab: LAB_OPTIONS };

describe('help', () => {
  test('every command has its own page listing every one of its flags', async () => {
    for (const [command, options] of Object.entries(OPTIONS)) {
      const r = await netpol([command, '--help']);
      assert.equal(r.code, 0);
      assert.equal((await netpol(['help', command])).stdout, r.stdout);
      const globals = command === 'agent' || command === 'lab' ? ['filename', 'help'] : Object.keys(GLOBAL_OPTIONS).filter((k) => command === 'matrix' || k !== 'all-namespaces');
      for (const flag of [...Object.keys(options), ...globals]) assert.match(r.stdout, new RegExp(`--${flag}\\b`), `${command} --help lacks --${flag}`);
    }
    assert.match((await netpol(['check', '--help'])).stdout, /NS\/KIND\/NAME[\s\S]*SELECTOR[\s\S]*ADDRESS/);
  });

  test('the examples of validate, check and matrix run as shown', async () => {
    for (const command of ['validate', 'check', 'matrix']) {
      const page = (await netpol([command, '--help'])).stdout;
      const examples = page
        .split('Examples:\n')[1]!
        .split('\n\n')[0]!
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('netpol ') && !/[|>$]/.test(l));
      assert.ok(examples.length >= 2, command);
      for (const line of examples) {
        const argv = [...line.slice('netpol '.length).matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
        const r = await netpol(argv);
        assert.ok(r.code <= 1, `${line}: exit ${r.code}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /^error:/m, line);
      }
    }
  });
});

describe('flags in kubectl manners', () => {
  test('unknown flags, missing values and repeated single-valued flags are errors, with a suggestion', async () => {
    const bogus = await netpol(['matrix', '-f', 'examples/three-tier', '--bogus']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /^error: unknown flag: --bogus\nRun 'netpol matrix --help' for usage\.\n$/);
    assert.match((await netpol(['matrix', '--sumary'])).stderr, /unknown flag: --sumary \(did you mean --summary\?\)/);
    assert.match((await netpol(['check', '--port'])).stderr, /flag needs an argument: --port/);
    const twice = await netpol(['check', '-f', 'examples/three-tier', '-n', 'a', '--namespace', 'b', '--from', 'x', '--to', 'y']);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /flag --namespace given more than once \(-n a and --namespace b\)/);
    assert.match((await netpol(['chek'])).stderr, /unknown command "chek" for "netpol" \(did you mean "check"\?\)/);
  });

  test('-f=path works as -f path', async () => {
    const r = await netpol(['validate', '-f=examples/three-tier']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^valid: 3 NetworkPolicies/);
  });
});

describe('completion', () => {
  test('bash completes commands, flags and values; zsh and fish scripts are generated', async () => {
    const script = (await netpol(['completion', 'bash'])).stdout;
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _netpol; echo "\${COMPREPLY[@]}"`], {
        encoding: 'utf8',
      }).stdout.trim();
    assert.equal(complete(['netpol', 'mat']), 'matrix');
    assert.equal(complete(['netpol', 'matrix', '--allow']), '--allow-large-output');
    assert.equal(complete(['netpol', 'check', '--protocol', 'U']), 'UDP');
    assert.match((await netpol(['completion', 'zsh'])).stdout, /^#compdef netpol/);
    assert.match((await netpol(['completion', 'fish'])).stdout, /complete -c netpol -n '__fish_seen_subcommand_from matrix' -l summary/);
    assert.equal((await netpol(['completion', 'tcsh'])).code, 2);
  });
});

describe('output', () => {
  test('verdicts are coloured on a terminal only, and NO_COLOR turns it off', async () => {
    assert.equal(wantsColour(true, {}), true);
    assert.equal(wantsColour(true, { NO_COLOR: '1' }), false);
    assert.equal(wantsColour(false, {}), false);
    assert.equal(wantsColour(true, { TERM: 'dumb' }), false);
    const { stdout: out } = await netpol(['check', '-f', 'examples/three-tier', '--from', 'three-tier/web', '--to', 'three-tier/db', '--port', '3306'], { color: true });
    assert.ok(out.startsWith('\x1b[1;31mDENIED\x1b[0m: '));
    assert.equal(colourVerdicts('ALLOWED: a\n  ALLOWED: b\n'), '\x1b[1;32mALLOWED\x1b[0m: a\n  ALLOWED: b\n');
    assert.equal((await netpol(['check', '-f', 'examples/three-tier', '--from', 'three-tier/web', '--to', 'three-tier/db'])).stdout.includes('\x1b'), false);
  });

  test('-o yaml carries the same data as -o json', async () => {
    for (const argv of [
      ['check', '-f', 'examples/three-tier', '--from', 'three-tier/web', '--to', 'three-tier/db', '--port', '3306'],
      ['validate', '-f', 'examples/broken'],
      ['matrix', '-f', 'examples/three-tier', '--summary'],
    ]) {
      const json = await netpol([...argv, '-o', 'json']);
      const yaml = await netpol([...argv, '-o', 'yaml']);
      assert.equal(yaml.code, json.code);
      assert.deepEqual(parseYaml(yaml.stdout), JSON.parse(json.stdout), argv.join(' '));
    }
    assert.equal((await netpol(['matrix', '-f', 'examples/three-tier', '-o', 'yaml'])).code, 2);
  });

  test('validate -o name: the valid objects as kubectl names them, in file order; problems on stderr', async () => {
    const r = await netpol(['validate', '-f', 'examples/bookstore', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter(Boolean), [
      'networkpolicy.networking.k8s.io/api-allow',
      'service/api',
      'service/frontend',
      'namespace/bookstore',
      'namespace/bookstore-staging',
      'deployment.apps/api',
      'deployment.apps/frontend',
      'deployment.apps/inventory',
      'deployment.apps/coffeeshop',
      'deployment.apps/frontend',
    ]);
    const mixed = `apiVersion: v1\nkind: Pod\nmetadata: {name: "web\\e[2J", namespace: x}\nspec: {containers: []}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\nspec: {podSelector: {}, ingress: [{ports: [{port: 0}]}]}\n---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec: {subject: {namespaces: {}}, ingress: []}\n`;
    const m = await netpol(['validate', '-f', '-', '-o', 'name'], mixed);
    assert.equal(m.code, 1);
    assert.deepEqual(m.stdout.split('\n').filter(Boolean), ['baselineadminnetworkpolicy.policy.networking.k8s.io/default']);
    assert.match(m.stderr, /error: .*NetworkPolicy x\/bad/);
    assert.match(m.stderr, /Pod x\/web\\x1b\[2J/, 'the invalid pod name is escaped');
    assert.equal((await netpol(['matrix', '-f', 'examples/bookstore', '-o', 'name'])).code, 2, 'matrix answers pairs, not objects');
  });

  test("kubectl's reference forms: pod/NAME, NS/pod/NAME, KIND/NAME, svc/NAME (test/cli-services.test.ts)", async () => {
    const base = ['check', '-f', 'examples/three-tier', '-n', 'three-tier', '--port', '3306', '-o', 'json'];
    const plain = JSON.parse((await netpol([...base, '--from', 'web', '--to', 'db'])).stdout);
    assert.deepEqual(JSON.parse((await netpol([...base, '--from', 'pod/web', '--to', 'three-tier/pod/db'])).stdout), plain);
    const deploy = await netpol(
      ['check', '-f', '-', '--from', 'deploy/api', '--to', 'deploy/api'],
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {template: {metadata: {labels: {app: api}}}}\n',
    );
    assert.equal(deploy.code, 0, deploy.stderr);
    const svc = await netpol([...base, '--from', 'svc/web', '--to', 'db']);
    assert.equal(svc.code, 2);
    assert.match(svc.stderr, /--from three-tier\/svc\/web: no Service three-tier\/web in the input \(the input has no Services\)/);
  });
});
