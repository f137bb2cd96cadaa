/** S3 reads: the config file and password file (s3:// paths) and the UI's index.html. */
import type { S3Client } from '@aws-sdk/client-s3';
import { describeError, type S3Location } from '../config/source';

/** Text of an S3 object; errors carry the s3:// path and the SDK's reason. */
export async function readS3Text(s3: S3Client, { bucket, key }: S3Location): Promise<string> {
  try {
    // Loaded on use: the config is read before tracing starts, and the SDK must load after that to be traced.
    const { GetObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) throw new Error('empty response body');
    return await out.Body.transformToString('utf8');
  } catch (err) {
    throw new Error(`cannot read s3://${bucket}/${key}: ${describeError(err)}`);
  }
}
