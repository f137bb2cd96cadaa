/** What the API answered for each job asked to terminate ({id: "OK" | error}). */
export function KillResults({ results, onClose }: { results: Record<string, string>; onClose: () => void }) {
  const entries = Object.entries(results);
  const failed = entries.filter(([, r]) => r !== 'OK');
  return (
    <div className={`notice ${failed.length ? 'notice-error' : 'notice-ok'}`} role="status" data-testid="kill-results">
      {failed.length === 0 ? (
        <span>
          Termination requested for {entries.length} job{entries.length === 1 ? '' : 's'}.
        </span>
      ) : (
        <div>
          {entries.length - failed.length} of {entries.length} terminated; failed:
          <ul className="id-list">
            {failed.map(([id, err]) => (
              <li key={id}>
                <span className="mono">{id}</span>: {err}
              </li>
            ))}
          </ul>
        </div>
      )}
      <button type="button" className="link" onClick={onClose}>
        Dismiss
      </button>
    </div>
  );
}
