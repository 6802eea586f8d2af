/**
 * What a web-view session may read: the page's endpoints are not API paths, so RBAC is asked about
 * the requests they stand for — exactly what the signed-in user would need to see the same thing
 * with kubectl or the CLI. The page is never a way around RBAC (a session is its kubeconfig user).
 *
 *   topology           list + watch nodes, namespaces, services, endpointslices, pods (all namespaces)
 *   trace, flows       get on the daemon's own path /debug/clusterip/<x> (as a direct request)
 *   explain NS/NAME    get services; list endpointslices, pods, events in NS
 *   diagnose NS/NAME   explain's, plus create and delete pods in NS (its probe Pod)
 */
import type { Attributes } from '../apiserver/auth/attributes.js';
import { forbiddenError } from '../apiserver/auth/attributes.js';
import type { Authorizer } from '../apiserver/auth/authorizer.js';
import type { UserInfo } from '../apiserver/auth/user.js';

/** One request the page's endpoint stands for (Attributes without the user). */
export type AccessCheck = Omit<Attributes, 'user'>;

function resource(verb: string, apiGroup: string, res: string, namespace = ''): AccessCheck {
  return { verb, resourceRequest: true, path: '', apiGroup, apiVersion: 'v1', resource: res, subresource: '', namespace, name: '' };
}

/** The checks of `/ui/api/<what>` (pure). `namespace` is the Service's for explain and diagnose. */
export function uiAccessChecks(what: string, namespace = ''): AccessCheck[] {
  switch (what) {
    case 'topology':
      return (['list', 'watch'] as const).flatMap((verb) => [
        resource(verb, '', 'nodes'), resource(verb, '', 'namespaces'), resource(verb, '', 'services'),
        resource(verb, 'discovery.k8s.io', 'endpointslices'), resource(verb, '', 'pods'),
      ]);
    case 'trace':
    case 'flows': {
      const path = `/debug/clusterip/${what}`;
      return [{ verb: 'get', resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' }];
    }
    case 'explain':
      return [
        resource('get', '', 'services', namespace), resource('list', 'discovery.k8s.io', 'endpointslices', namespace),
        resource('list', '', 'pods', namespace), resource('list', '', 'events', namespace),
      ];
    case 'diagnose':
      return [...uiAccessChecks('explain', namespace), resource('create', '', 'pods', namespace), resource('delete', '', 'pods', namespace)];
    default:
      return [];
  }
}

/** Throws the 403 of the first check `user` fails, in kube-apiserver's words. */
export function authorizeAll(authorizer: Authorizer, user: UserInfo, checks: readonly AccessCheck[]): void {
  for (const c of checks) {
    const a: Attributes = { ...c, user };
    const d = authorizer.authorize(a);
    if (d.decision !== 'allow') throw forbiddenError(a, d.reason);
  }
}
