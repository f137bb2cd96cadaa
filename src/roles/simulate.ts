// STUB: replaced when this role is built.
export async function runSimulate(_args: string[]): Promise<void> {
  console.error('batchiepatchie simulate: not implemented yet');
  process.exitCode = 1;
}
