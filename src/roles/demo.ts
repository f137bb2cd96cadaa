// STUB: replaced when this role is built.
export async function runDemo(_args: string[]): Promise<void> {
  console.error('batchiepatchie demo: not implemented yet');
  process.exitCode = 1;
}
