/** Shared by the live-cluster tests: a ServiceAccount with exactly some rules, and a token for it. */
import { ensureNamespace, resourcePath, type KubeClient, type Resource } from '../../src/kube/index.js';

const SERVICE_ACCOUNTS: Resource = { prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true };
const ROLES: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true };
const ROLE_BINDINGS: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true };

export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/**
 * Creates namespace `namespace`, ServiceAccount `account` in it, a Role with `rules` bound to it, and
 * returns a token for the account from the TokenRequest API (`serviceaccounts/NAME/token`).
 */
export async function grantAndToken(client: KubeClient, o: { namespace: string; account: string; rules: PolicyRule[] }): Promise<string> {
  const ns = o.namespace;
  await ensureNamespace(client, ns, {});
  const create = (r: Resource, body: Record<string, unknown>) => client.request('POST', resourcePath(r, ns), { verb: 'create', resource: r, namespace: ns }, body);
  await create(SERVICE_ACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: o.account } });
  await create(ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: o.account }, rules: o.rules });
  await create(ROLE_BINDINGS, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: o.account },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: o.account },
    subjects: [{ kind: 'ServiceAccount', name: o.account, namespace: ns }],
  });
  const answer = await client.request('POST', `${resourcePath(SERVICE_ACCOUNTS, ns, o.account)}/token`, { verb: 'create', resource: SERVICE_ACCOUNTS, namespace: ns, name: o.account }, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  const token = (answer.status as Record<string, unknown> | undefined)?.token;
  if (typeof token !== 'string') throw new Error('TokenRequest returned no token');
  return token;
}
