/**
 * Amazon EC2, query protocol: a form body (Action=…&Version=…), XML answers in
 * the ec2 namespace, errors as <Response><Errors><Error>.
 */
import type { SimInstance } from '../entities';
import type { SimModel } from '../model';
import { ApiError, type Protocol, type WireRequest, type WireResponse, offsetToken, parseOffsetToken, requestId, xmlEscape } from './common';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const STATE_CODES: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48 };
const KNOWN = new Set(['DescribeInstances', 'TerminateInstances']);

function params(req: WireRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

/** Values of a query list: Prefix.1, Prefix.2, … */
function list(p: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${prefix}.${i}`); i++) out.push(p.get(`${prefix}.${i}`) as string);
  return out;
}

function filters(p: URLSearchParams): { name: string; values: string[] }[] {
  const out = [];
  for (let i = 1; p.has(`Filter.${i}.Name`); i++) out.push({ name: p.get(`Filter.${i}.Name`) as string, values: list(p, `Filter.${i}.Value`) });
  return out;
}

function filterValue(inst: SimInstance, name: string): string | undefined {
  switch (name) {
    case 'instance-id':
      return inst.id;
    case 'instance-state-name':
      return inst.state;
    case 'instance-type':
      return inst.type;
    case 'availability-zone':
      return inst.availabilityZone;
    case 'private-ip-address':
      return inst.privateIp;
    default:
      throw new ApiError(400, 'InvalidParameterValue', `The filter '${name}' is invalid`);
  }
}

function checkIds(model: SimModel, ids: string[]): SimInstance[] {
  const malformed = ids.find((id) => !/^i-[0-9a-f]{8,17}$/.test(id));
  if (malformed) throw new ApiError(400, 'InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
  const missing = ids.filter((id) => !model.instances.has(id));
  if (missing.length > 0) {
    throw new ApiError(400, 'InvalidInstanceID.NotFound', `The instance ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist`);
  }
  return ids.map((id) => model.instances.get(id) as SimInstance);
}

const tag = (name: string, value: string | number | undefined): string => (value === undefined ? '' : `<${name}>${xmlEscape(String(value))}</${name}>`);

function instanceXml(inst: SimInstance): string {
  const live = inst.state === 'pending' || inst.state === 'running';
  return [
    '<item>',
    tag('instanceId', inst.id),
    tag('imageId', inst.ami),
    `<instanceState><code>${STATE_CODES[inst.state]}</code><name>${inst.state}</name></instanceState>`,
    tag('privateDnsName', live ? `ip-${inst.privateIp.replace(/\./g, '-')}.ec2.internal` : ''),
    tag('dnsName', live ? `ec2-${inst.publicIp.replace(/\./g, '-')}.compute-1.amazonaws.com` : ''),
    inst.stateReason ? `<reason>${xmlEscape(inst.stateReason)}</reason>` : '<reason/>',
    '<amiLaunchIndex>0</amiLaunchIndex><productCodes/>',
    tag('instanceType', inst.type),
    tag('launchTime', new Date(inst.launchTime).toISOString()),
    `<placement><availabilityZone>${inst.availabilityZone}</availabilityZone><groupName/><tenancy>default</tenancy></placement>`,
    '<monitoring><state>disabled</state></monitoring>',
    live ? tag('privateIpAddress', inst.privateIp) + tag('ipAddress', inst.publicIp) : '',
    inst.spotInstanceRequestId ? tag('spotInstanceRequestId', inst.spotInstanceRequestId) + '<instanceLifecycle>spot</instanceLifecycle>' : '',
    '<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>',
    '<tagSet>',
    `<item><key>aws:batch:compute-environment</key><value>${xmlEscape(inst.ce.name)}</value></item>`,
    `<item><key>Name</key><value>${xmlEscape(`${inst.ce.name}-batch-instance`)}</value></item>`,
    '</tagSet>',
    '</item>',
  ].join('');
}

function describeInstances(p: URLSearchParams, model: SimModel): string {
  const ids = list(p, 'InstanceId');
  const maxResultsText = p.get('MaxResults');
  if (ids.length > 0 && maxResultsText) throw new ApiError(400, 'InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
  const maxResults = maxResultsText ? Number(maxResultsText) : undefined;
  if (maxResults !== undefined && !(Number.isInteger(maxResults) && maxResults >= 5 && maxResults <= 1000)) {
    throw new ApiError(400, 'InvalidParameterValue', `Value (${maxResultsText}) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
  }
  const fs = filters(p);
  let instances = ids.length > 0 ? checkIds(model, ids) : [...model.instances.values()];
  instances = instances.filter((inst) => fs.every((f) => f.values.includes(filterValue(inst, f.name) ?? '')));
  const start = parseOffsetToken(p.get('NextToken'), 'InvalidParameterValue');
  const end = maxResults ? start + maxResults : instances.length;
  const page = instances.slice(start, end);
  // One reservation per instance, as Batch launches them one by one.
  const reservations = page
    .map((inst) => `<item><reservationId>r-${inst.id.slice(2)}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>${instanceXml(inst)}</instancesSet></item>`)
    .join('');
  const next = end < instances.length ? `<nextToken>${offsetToken(end)}</nextToken>` : '';
  return `<DescribeInstancesResponse xmlns="${NS}"><requestId>${requestId()}</requestId><reservationSet>${reservations}</reservationSet>${next}</DescribeInstancesResponse>`;
}

function terminateInstances(p: URLSearchParams, model: SimModel): string {
  const ids = list(p, 'InstanceId');
  if (ids.length === 0) throw new ApiError(400, 'MissingParameter', "The request must contain the parameter InstanceId");
  checkIds(model, ids);
  const items = ids
    .map((id) => {
      const r = model.terminateInstance(id) as { previous: string; current: string };
      return `<item><instanceId>${id}</instanceId><currentState><code>${STATE_CODES[r.current]}</code><name>${r.current}</name></currentState><previousState><code>${STATE_CODES[r.previous]}</code><name>${r.previous}</name></previousState></item>`;
    })
    .join('');
  return `<TerminateInstancesResponse xmlns="${NS}"><requestId>${requestId()}</requestId><instancesSet>${items}</instancesSet></TerminateInstancesResponse>`;
}

function xml(status: number, body: string): WireResponse {
  return { status, headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId() }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}` };
}

export const ec2Protocol: Protocol = {
  service: 'EC2',
  operation(req) {
    const action = params(req).get('Action');
    return action && KNOWN.has(action) ? action : action ? `Unknown(${action.slice(0, 64)})` : 'Unknown';
  },
  handle(op, req, model) {
    const p = params(req);
    switch (op) {
      case 'DescribeInstances':
        return xml(200, describeInstances(p, model));
      case 'TerminateInstances':
        return xml(200, terminateInstances(p, model));
      default:
        throw new ApiError(400, 'InvalidAction', `The action ${p.get('Action') ?? '(none)'} is not valid for this web service.`);
    }
  },
  errorResponse(err) {
    return xml(
      err.status,
      `<Response><Errors><Error><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error></Errors><RequestID>${requestId()}</RequestID></Response>`,
    );
  },
  fault: (kind) =>
    kind === 'throttle' ? new ApiError(503, 'RequestLimitExceeded', 'Request limit exceeded.') : new ApiError(500, 'InternalError', 'An internal error has occurred (simulated)'),
};
