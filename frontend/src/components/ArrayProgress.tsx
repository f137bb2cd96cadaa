import type { ArraySummary } from '../lib/arrays';

const SEGMENTS: { status: string; className: string }[] = [
  { status: 'SUCCEEDED', className: 'seg-succeeded' },
  { status: 'FAILED', className: 'seg-failed' },
  { status: 'RUNNING', className: 'seg-running' },
  { status: 'STARTING', className: 'seg-starting' },
];

/** An array job's children at a glance: "3/10" done, a bar by status, the counts in the tooltip. */
export function ArrayProgress({ summary }: { summary: ArraySummary }) {
  const { size, counts } = summary;
  const detail = Object.entries(counts)
    .map(([s, n]) => `${n} ${s.toLowerCase()}`)
    .join(', ');
  const succeeded = counts.SUCCEEDED ?? 0;
  const failed = counts.FAILED ?? 0;
  return (
    <span className="array-progress" title={`${size} children: ${detail || 'none reported yet'}`} data-testid="array-progress">
      <span className="array-bar" aria-hidden="true">
        {SEGMENTS.map(({ status, className }) =>
          counts[status] ? <span key={status} className={className} style={{ width: `${(100 * counts[status]) / Math.max(1, size)}%` }} /> : null,
        )}
      </span>
      <span className="array-text">
        {succeeded}/{size} succeeded{failed ? `, ${failed} failed` : ''}
      </span>
    </span>
  );
}
