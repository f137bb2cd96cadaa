/**
 * The log of one node of a multi-node parallel job: the node named in the URL
 * (`?node=N`, so a node's log can be shared), else the main node once AWS
 * Batch has said which one that is.
 */
import { useEffect, useRef } from 'react';
import { LogViewer } from './LogViewer';
import { Loading } from './States';
import type { useJobAws } from './JobAws';

/** `?node=` as a node index; anything else is no choice (the API validates what it is sent). */
export function nodeFromParam(value: string | null): number | null {
  return value !== null && /^\d{1,3}$/.test(value) ? Number(value) : null;
}

export function NodeLog({
  id,
  running,
  chosen,
  detail,
}: {
  id: string;
  running: boolean;
  chosen: number | null;
  detail: ReturnType<typeof useJobAws>;
}) {
  const nodes = detail.data?.nodes ?? null;
  const index = chosen ?? nodes?.main_node ?? null;
  const box = useRef<HTMLDivElement>(null);
  // A node was asked for (its row's link, a shared URL): bring its log into sight, again once
  // the Nodes table above has arrived and pushed it down.
  const awsPending = detail.isPending;
  useEffect(() => {
    if (chosen !== null) box.current?.scrollIntoView({ block: 'start' });
  }, [chosen, awsPending]);
  if (index === null) {
    if (detail.isPending) return <Loading what="the job's nodes" />;
    return (
      <p className="muted" data-testid="node-log-none">
        A multi-node job writes one log per node; AWS Batch does not list this job&apos;s nodes now, so there is no node log to show.
      </p>
    );
  }
  return (
    <div ref={box}>
      <LogViewer id={id} running={running} node={{ index, main: nodes !== null && index === nodes.main_node }} />
    </div>
  );
}
