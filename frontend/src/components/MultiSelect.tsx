import { usePopover } from '../lib/popover';

/** A compact dropdown of checkboxes; `selected` empty means "all". */
export function MultiSelect(props: {
  label: string;
  options: readonly string[];
  selected: string[];
  onChange: (next: string[]) => void;
  testId?: string;
}) {
  const { label, options, selected, onChange } = props;
  const { open, setOpen, root } = usePopover();

  const toggle = (value: string) =>
    onChange(selected.includes(value) ? selected.filter((v) => v !== value) : [...selected, value]);
  const summary = selected.length === 0 ? 'all' : selected.length <= 2 ? selected.join(', ') : `${selected.length} selected`;

  return (
    <div className="multiselect" ref={root} data-testid={props.testId}>
      <button type="button" className="multiselect-button" aria-expanded={open} onClick={() => setOpen(!open)} title={selected.length ? `${label}: ${selected.join(', ')}` : undefined}>
        <span className="multiselect-label">{label}:</span> <span className="multiselect-summary">{summary}</span> ▾
      </button>
      {open && (
        <div className="multiselect-menu" role="listbox" aria-multiselectable="true">
          {options.length === 0 && <div className="muted pad">No options</div>}
          {options.map((o) => (
            <label key={o} className="multiselect-option">
              <input type="checkbox" checked={selected.includes(o)} onChange={() => toggle(o)} value={o} /> {o}
            </label>
          ))}
          {selected.length > 0 && (
            <button type="button" className="link" onClick={() => onChange([])}>
              Clear
            </button>
          )}
        </div>
      )}
    </div>
  );
}
