import { usePopover } from '../lib/popover';

/** The search box's syntax, each with an example a click adds to the search. */
const SYNTAX: { example: string; meaning: string }[] = [
  { example: 'etl daily', meaning: 'every word in the job’s id, name, queue or image' },
  { example: 'reason:OutOfMemory', meaning: 'in the status reason (e.g. every out-of-memory failure)' },
  { example: 'cmd:--shard', meaning: 'in the command line' },
];

/** A prefix typed without its word yet (`reason:` then a space, or at the end): the search waits for it. */
export const INCOMPLETE_PREFIX = /(^|\s)(reason|cmd):(\s|$)/i;

/**
 * The "?" beside the search box: what a word matches and the `reason:` and
 * `cmd:` prefixes. Clicking an example adds it to the search.
 */
export function SearchHelp({ onExample }: { onExample: (example: string) => void }) {
  const { open, setOpen, root } = usePopover();
  return (
    <div className="search-help" ref={root}>
      <button type="button" className="search-help-button" aria-label="Search syntax" aria-expanded={open} title="Search syntax" onClick={() => setOpen(!open)}>
        ?
      </button>
      {open && (
        <div className="search-help-panel" role="dialog" aria-label="Search syntax" data-testid="search-help">
          <div className="search-help-title">Search syntax (words are ANDed, any case)</div>
          <dl>
            {SYNTAX.map(({ example, meaning }) => (
              <div key={example} className="search-help-row">
                <dt>
                  <button type="button" className="link mono" onClick={() => { onExample(example); setOpen(false); }}>
                    {example}
                  </button>
                </dt>
                <dd>{meaning}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
    </div>
  );
}
