/**
 * ValidateService (pkg/apis/core/validation) for what a manifest can get wrong in the fields netpol
 * reads or that decide whether the API server stores the object: the name (a DNS-1035 label), the
 * ports, the selector's labels, the type. Fields the server sets (clusterIP allocation, nodePorts,
 * status) and the load-balancer and IP-family rules are not checked: a conscious gap, docs/cli.md.
 * Defaults are applied first, as the server does before validating: type ClusterIP, protocol TCP,
 * targetPort = port.
 */
import type { Diagnostic } from '../diag/index.js';
import type { Service, ServicePort } from '../model/index.js';
import { child, duplicate, index, invalid, notSupported, required } from './field.js';
import { validateObjectMeta } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isValidPortName, isValidPortNum, nameIsDNS1035Label } from './names.js';
import { validateLabels } from './selector.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const;
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

export function validateService(service: Service): Diagnostic[] {
  // ValidateServiceName = apimachineryvalidation.NameIsDNS1035Label.
  const out = validateObjectMeta(service.metadata, nameIsDNS1035Label);
  const spec = service.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const ports = spec.ports ?? [];
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && !headless && type !== 'ExternalName') out.push(required('spec.ports'));
  if (!(SERVICE_TYPES as readonly string[]).includes(type)) out.push(notSupported('spec.type', type, SERVICE_TYPES));
  if (type === 'ExternalName') {
    // "The value (a CNAME) may have a trailing dot to denote it as fully qualified."
    const cname = (spec.externalName ?? '').replace(/\.$/, '');
    if (cname === '') out.push(required('spec.externalName'));
    else out.push(...isDNS1123Subdomain(cname).map((msg) => invalid('spec.externalName', cname, msg)));
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const path = index('spec.ports', i);
    out.push(...validateServicePort(port, ports.length > 1, names, path));
    // "Check for duplicate ports, considering (protocol,port) pairs."
    const protocol = port.protocol ?? 'TCP';
    const key = `${protocol}/${port.port}`;
    if (seen.has(key))
      out.push(
        duplicate(path, {
          goSyntax: `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port.port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
        }),
      );
    seen.add(key);
  });
  if (spec.selector !== undefined) out.push(...validateLabels(spec.selector, 'spec.selector'));
  return out;
}

/**
 * validateServicePort. "name: The name of this port within the service. This must be a DNS_LABEL. All
 * ports within a ServiceSpec must have unique names. ... Optional if only one ServicePort is defined."
 */
function validateServicePort(port: ServicePort, requireName: boolean, names: Set<string>, path: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const name = port.name ?? '';
  if (requireName && name === '') out.push(required(child(path, 'name')));
  else if (name !== '') {
    out.push(...isDNS1123Label(name).map((msg) => invalid(child(path, 'name'), name, msg)));
    if (names.has(name)) out.push(duplicate(child(path, 'name'), name));
    else names.add(name);
  }
  const number = port.port ?? 0;
  out.push(...isValidPortNum(number).map((msg) => invalid(child(path, 'port'), number, msg)));
  if (port.protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(port.protocol)) out.push(notSupported(child(path, 'protocol'), port.protocol, PROTOCOLS));
  // ValidatePortNumOrName: "Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME."
  const target = port.targetPort;
  if (typeof target === 'number') out.push(...isValidPortNum(target).map((msg) => invalid(child(path, 'targetPort'), target, msg)));
  else if (typeof target === 'string') out.push(...isValidPortName(target).map((msg) => invalid(child(path, 'targetPort'), target, msg)));
  return out;
}
