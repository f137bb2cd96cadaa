/**
 * An AWS call that failed; the API answers it as 502 with this message, or
 * only with `summary` ("Batch DescribeJobQueues failed") to callers who are
 * not operators: AWS's words can hold account ids, ARNs and addresses.
 */
export class AwsCallError extends Error {
  readonly status = 502;
  readonly summary: string;

  constructor(service: string, operation: string, cause: unknown) {
    super(`${service} ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'AwsCallError';
    this.summary = `${service} ${operation} failed`;
  }
}

/** Runs an AWS call; its failure becomes an AwsCallError naming the service and operation. */
export async function upstreamCall<T>(service: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new AwsCallError(service, operation, err);
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ResourceNotFoundException';
}
