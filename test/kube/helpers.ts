/** Shared by the live-cluster tests: a ServiceAccount with exactly some rules, and a token for it. */
import { ensureNamespace, resourcePath, type KubeClient, type Resource } from '../../src/kube/index.js';

const SERVICE_ACCOUNTS: Resource = { prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true };
const ROLES: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true };
const ROLE_BINDINGS: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true };
const CLUSTER_ROLE_BINDINGS: Resource = { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false };

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
  const create = await serviceAccount(client, ns, o.account);
  await create(ROLES, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: o.account }, rules: o.rules });
  await create(ROLE_BINDINGS, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: o.account },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: o.account },
    subjects: [{ kind: 'ServiceAccount', name: o.account, namespace: ns }],
  });
  return await tokenFor(client, ns, o.account);
}

/** A ServiceAccount bound (cluster-wide) to the existing ClusterRole `clusterRole`, and a token for it. */
export async function clusterRoleToken(client: KubeClient, o: { namespace: string; account: string; clusterRole: string }): Promise<string> {
  await serviceAccount(client, o.namespace, o.account);
  await client.request('POST', resourcePath(CLUSTER_ROLE_BINDINGS), { verb: 'create', resource: CLUSTER_ROLE_BINDINGS }, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `${o.namespace}-${o.account}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: o.clusterRole },
    subjects: [{ kind: 'ServiceAccount', name: o.account, namespace: o.namespace }],
  });
  return await tokenFor(client, o.namespace, o.account);
}

async function serviceAccount(client: KubeClient, ns: string, account: string) {
  await ensureNamespace(client, ns, {});
  const create = (r: Resource, body: Record<string, unknown>) => client.request('POST', resourcePath(r, ns), { verb: 'create', resource: r, namespace: ns }, body);
  await create(SERVICE_ACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account } });
  return create;
}

async function tokenFor(client: KubeClient, ns: string, account: string): Promise<string> {
  const answer = await client.request('POST', `${resourcePath(SERVICE_ACCOUNTS, ns, account)}/token`, { verb: 'create', resource: SERVICE_ACCOUNTS, namespace: ns, name: account }, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  const token = (answer.status as Record<string, unknown> | undefined)?.token;
  if (typeof token !== 'string') throw new Error('TokenRequest returned no token');
  return token;
}
