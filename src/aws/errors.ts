/** An AWS call that failed; the API answers it as 502 with this message. */
export class AwsCallError extends Error {
  readonly status = 502;

  constructor(service: string, operation: string, cause: unknown) {
    super(`${service} ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'AwsCallError';
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
