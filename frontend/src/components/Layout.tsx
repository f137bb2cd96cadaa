import { NavLink, Outlet } from 'react-router';
import { zoneName } from '../lib/format';
import { setTimeZone } from '../lib/prefs';
import { useTimeZone } from '../lib/useTimeZone';
import { withBase } from '../lib/basePath';

/** Local or UTC for every time on every page; remembered in this browser. */
function TimeZoneSwitch() {
  const zone = useTimeZone();
  return (
    <label className="zone-switch" title="Show times in this browser's time zone or in UTC">
      <span className="hide-narrow">Times</span>
      <select aria-label="Time zone" value={zone} onChange={(e) => setTimeZone(e.target.value === 'utc' ? 'utc' : 'local')}>
        <option value="local">local ({zoneName('local')})</option>
        <option value="utc">UTC</option>
      </select>
    </label>
  );
}

export function Layout() {
  return (
    <div className="app">
      <header className="topbar">
        <NavLink to="/" className="brand" end>
          Batchiepatchie
        </NavLink>
        <nav>
          <NavLink to="/" end>
            Jobs
          </NavLink>
          <NavLink to="/job_queues">Queues</NavLink>
          <NavLink to="/stats">Stats</NavLink>
        </nav>
        <span className="spacer" />
        <TimeZoneSwitch />
        {/* bull-board is another app: a tab of its own keeps this one where the user left it. */}
        <a
          href={withBase('/admin/queues')}
          className="external"
          target="_blank"
          rel="noopener"
          title="The pipeline's BullMQ queues (bull-board; operators only), in a new tab"
          data-testid="dashboard-link"
        >
          Pipeline<span className="hide-narrow"> dashboard</span> ↗
        </a>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
