/**
 * Amazon S3, REST-XML, path-style (/bucket/key): GetObject, HeadObject,
 * HeadBucket, GetBucketLocation, and PutObject/CreateBucket for seeding.
 */
import type { SimModel } from '../model';
import { ApiError, type Protocol, type WireRequest, type WireResponse, requestId, xmlEscape } from './common';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ApiError(400, 'InvalidURI', 'Couldn\'t parse the specified URI.');
  }
}

function split(req: WireRequest): { bucket: string; key: string } {
  const path = req.url.pathname.replace(/^\/+/, '');
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decode(path), key: '' };
  return { bucket: decode(path.slice(0, slash)), key: decode(path.slice(slash + 1)) };
}

function operationOf(req: WireRequest): string {
  let parts: { bucket: string; key: string };
  try {
    parts = split(req);
  } catch {
    return 'Unknown';
  }
  const { bucket, key } = parts;
  const m = req.method;
  if (!bucket) return m === 'GET' ? 'ListBuckets' : 'Unknown';
  if (!key) {
    if (m === 'HEAD') return 'HeadBucket';
    if (m === 'GET' && req.url.searchParams.has('location')) return 'GetBucketLocation';
    if (m === 'PUT') return 'CreateBucket';
    return 'Unknown';
  }
  if (m === 'GET') return 'GetObject';
  if (m === 'HEAD') return 'HeadObject';
  if (m === 'PUT') return 'PutObject';
  return 'Unknown';
}

function xml(status: number, body: string, headers: Record<string, string> = {}): WireResponse {
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId().replace(/-/g, '').slice(0, 16).toUpperCase(), ...headers },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}

/** Bodies the SDK sends as aws-chunked (streaming uploads) are unwrapped to the payload. */
function payload(req: WireRequest): Buffer {
  if (!String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) return req.body;
  const parts: Buffer[] = [];
  let at = 0;
  const body = req.body;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(body.subarray(at, lineEnd).toString('latin1').split(';')[0], 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function noSuchBucket(bucket: string): ApiError {
  return new ApiError(404, 'NoSuchBucket', `The specified bucket does not exist: ${bucket}`);
}

export const s3Protocol: Protocol = {
  service: 'S3',
  operation: operationOf,
  handle(op, req, model: SimModel): WireResponse {
    const { bucket, key } = split(req);
    const s3 = model.s3;
    switch (op) {
      case 'ListBuckets': {
        const items = [...s3.buckets.keys()].map((b) => `<Bucket><Name>${xmlEscape(b)}</Name><CreationDate>${new Date(model.now()).toISOString()}</CreationDate></Bucket>`).join('');
        return xml(200, `<ListAllMyBucketsResult xmlns="${NS}"><Owner><ID>simulator</ID></Owner><Buckets>${items}</Buckets></ListAllMyBucketsResult>`);
      }
      case 'HeadBucket':
        if (!s3.buckets.has(bucket)) throw noSuchBucket(bucket);
        return { status: 200, headers: { 'x-amz-bucket-region': model.region }, body: '' };
      case 'GetBucketLocation':
        if (!s3.buckets.has(bucket)) throw noSuchBucket(bucket);
        return xml(200, model.region === 'us-east-1' ? `<LocationConstraint xmlns="${NS}"/>` : `<LocationConstraint xmlns="${NS}">${model.region}</LocationConstraint>`);
      case 'CreateBucket':
        s3.createBucket(bucket);
        return { status: 200, headers: { location: `/${bucket}` }, body: '' };
      case 'PutObject': {
        const obj = s3.putObject(bucket, key, payload(req), model.now(), String(req.headers['content-type'] ?? 'binary/octet-stream'));
        return { status: 200, headers: { etag: obj.etag }, body: '' };
      }
      case 'GetObject':
      case 'HeadObject': {
        if (!s3.buckets.has(bucket)) throw noSuchBucket(bucket);
        const obj = s3.getObject(bucket, key);
        if (!obj) throw new ApiError(404, 'NoSuchKey', 'The specified key does not exist.');
        return {
          status: 200,
          headers: {
            'content-type': obj.contentType,
            'content-length': String(obj.body.length),
            etag: obj.etag,
            'last-modified': new Date(obj.lastModified).toUTCString(),
            'accept-ranges': 'bytes',
          },
          body: obj.body,
        };
      }
      default:
        throw new ApiError(501, 'NotImplemented', `A header or query you provided implies functionality that is not implemented (${req.method} ${req.url.pathname}).`);
    }
  },
  errorResponse(err, req) {
    if (req.method === 'HEAD') return { status: err.status, headers: { 'x-amz-request-id': requestId() }, body: '' };
    return xml(err.status, `<Error><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message><RequestId>${requestId()}</RequestId></Error>`);
  },
  fault: (kind) => (kind === 'throttle' ? new ApiError(503, 'SlowDown', 'Please reduce your request rate.') : new ApiError(500, 'InternalError', 'We encountered an internal error. Please try again.')),
};
